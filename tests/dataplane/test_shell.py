"""mylearning.dataplane.shell: health-check and busybox commands, against real sockets and files."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from aiohttp import web

from mylearning.dataplane import shell
from tests.dataplane.conftest import TASK_ADDRESS, sample_app, serving


def sh(command, run_async, **kw):
    kw.setdefault("env", {})
    kw.setdefault("address", TASK_ADDRESS)
    return run_async(shell.run(command, **kw))


# ---------------------------------------------------------------- the language

def test_the_three_command_forms(run_async, tmp_path):
    shell_form = sh(["CMD-SHELL", "echo $GREETING, ${WHO:-world} && exit 4"], run_async,
                    env={"GREETING": "hello"})
    assert shell_form == shell.ShellResult(4, "hello, world\n")
    # CMD runs its arguments directly: no shell, so no expansion and no operators.
    direct = sh(["CMD", "echo", "$GREETING", "&&", "exit", "4"], run_async, env={"GREETING": "hi"})
    assert direct == shell.ShellResult(0, "$GREETING && exit 4\n")
    busybox = sh(["sh", "-c", "mkdir -p /scratch && echo ready"], run_async, root=tmp_path)
    assert busybox == shell.ShellResult(0, "ready\n")
    assert (tmp_path / "scratch").is_dir()


def test_quoting_and_expansion(run_async):
    r = sh(["CMD-SHELL", """echo 'single $A' "double $A" \\$A ${A}x "$EMPTY" ${UNSET-dflt} a\\ b"""],
           run_async, env={"A": "1 2", "EMPTY": ""})
    assert r.output == "single $A double 1 2 $A 1 2x  dflt a b\n"
    # Unquoted expansions split into fields; quoted ones stay whole.
    r = sh(["CMD-SHELL", 'for w in $A; do echo "<$w>"; done; for w in "$A"; do echo "[$w]"; done'],
           run_async, env={"A": "x  y"})
    assert r.output == "<x>\n<y>\n[x  y]\n"


def test_lists_and_status(run_async):
    r = sh(["CMD-SHELL", "false; echo $?; true && echo and; false && echo no || echo or; ! false && echo not"],
           run_async)
    assert r == shell.ShellResult(0, "1\nand\nor\nnot\n")
    assert sh(["CMD-SHELL", "false"], run_async).exit_code == 1
    assert sh(["CMD-SHELL", "exit 300"], run_async).exit_code == 300 & 0xFF
    assert sh(["CMD-SHELL", "false; exit"], run_async).exit_code == 1


def test_sh_c_with_arguments_and_nesting(run_async):
    r = sh(["sh", "-c", 'echo "$0 $1 $#"; sh -c "exit 5"; echo inner=$?', "prog", "arg1"], run_async)
    assert r == shell.ShellResult(0, "prog arg1 1\ninner=5\n")
    assert sh(["/bin/sh", "-c", "exit 7"], run_async).exit_code == 7


def test_control_flow(run_async):
    r = sh(["CMD-SHELL", "i=0; for n in a b; do if [ $n = a ]; then echo A; elif [ $n = b ]; then echo B; "
            "else echo C; fi; done; while false; do echo never; done; until true; do echo never; done"],
           run_async)
    assert r == shell.ShellResult(0, "A\nB\n")


def test_unknown_commands_and_unsupported_syntax(run_async):
    assert sh(["CMD-SHELL", "nginx -t"], run_async) == shell.ShellResult(127, "sh: nginx: not found\n")
    assert sh(["CMD", "/usr/local/bin/app"], run_async) == shell.ShellResult(
        127, "sh: /usr/local/bin/app: not found\n")
    for script in ("echo $((1 + 2))", "sleep 1 &", "(echo sub)", "echo 'open", "echo $(echo open",
                   "echo `echo open", "echo $( (echo sub) )"):
        r = sh(["CMD-SHELL", script], run_async)
        assert r.exit_code == 2 and r.output.startswith("sh: "), (script, r)


# ---------------------------------------------------------------- command substitution

def test_command_substitution_forms(run_async):
    checks = {
        # trailing newlines go, inner ones stay; unquoted results split into fields
        'echo "[$(printf "a\\n\\nb\\n\\n\\n")]"': "[a\n\nb]\n",
        "for w in $(echo 'x  y'); do echo \"<$w>\"; done": "<x>\n<y>\n",
        'for w in "$(echo \'x  y\')"; do echo "<$w>"; done': "<x  y>\n",
        # nested, with quotes inside the inner command, inside and outside "..."
        'echo "$(echo "$(echo "deep $A")")"': "deep 1 2\n",
        "echo $(echo $(echo a) b)c": "a bc\n",
        # backquotes, with an escaped inner pair
        "echo `echo old`": "old\n",
        'x=`echo a \\`echo b\\``; echo "$x"': "a b\n",
        'echo "`echo in quotes`"': "in quotes\n",
    }
    for script, output in checks.items():
        assert sh(["CMD-SHELL", script], run_async, env={"A": "1 2"}) == shell.ShellResult(0, output), script
    # An empty result: no field unquoted, one empty field quoted.
    r = sh(["CMD-SHELL", 'for w in $(true); do echo never; done; for w in "$(true)"; do echo "[$w]"; done'],
           run_async)
    assert r.output == "[]\n"


def test_substitution_status_and_subshell_environment(run_async, tmp_path):
    (tmp_path / "d").mkdir()
    # An assignment-only command takes the last substitution's status (XCU 2.9.1) ...
    r = sh(["CMD-SHELL", "x=$(false); echo $?; x=$(true) y=$(exit 3); echo $?; x=$(false) true; echo $?"],
           run_async)
    assert r.output == "1\n3\n0\n"
    # ... and `exit` inside one ends only the substitution.
    assert sh(["CMD-SHELL", "v=$(echo out; exit 4); echo \"$v $?\""], run_async).output == "out 4\n"
    # Variables and cd inside a substitution do not leak out; $? and variables leak in.
    r = sh(["CMD-SHELL", "cd /d; A=outer; x=$(A=inner; cd /; pwd); echo $x $A; pwd; false; echo $(echo $?)"],
           run_async, root=tmp_path)
    assert r.output == "/ outer\n/d\n1\n"
    # stderr is not captured: it goes to the command's output as before.
    r = sh(["CMD-SHELL", 'x="$(nosuch)"; echo "[$x] $?"'], run_async)
    assert r.output == "sh: nosuch: not found\n[] 127\n"
    # A default word runs its command only when it is used.
    r = sh(["CMD-SHELL", "echo ${SET:-$(echo unused > /d/f)}; cat /d/f; echo ${UNSET:-$(echo used)}"],
           run_async, root=tmp_path, env={"SET": "set"})
    assert r.output == "set\ncat: can't open '/d/f': No such file or directory\nused\n"
    # Substitutions work in redirection targets and sh -c's cd stays in the child.
    r = sh(["CMD-SHELL", "echo hi > /d/$(echo name); cat /d/name; sh -c 'cd /d'; pwd"], run_async, root=tmp_path)
    assert r.output == "hi\n/\n"


def test_a_substitution_is_stopped_by_the_timeout(run_async):
    r = sh(["CMD-SHELL", "x=$(while :; do :; done)"], run_async, timeout=0.2)
    assert r.exit_code == shell.TIMED_OUT


def test_test_builtin(run_async, tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    checks = {"[ -f /f ]": 0, "[ -f /d ]": 1, "[ -d /d ]": 0, "[ -e /nope ]": 1, "test -z ''": 0,
              "test -n ''": 1, "[ a = a ]": 0, "[ a != a ]": 1, "[ 3 -gt 2 ]": 0, "[ ! -e /f ]": 1,
              "[ -s /f ]": 0, "[ x ]": 0, "[ -f /f": 2, "[ a -gt 1 ]": 2}
    for script, code in checks.items():
        assert sh(["CMD-SHELL", script], run_async, root=tmp_path).exit_code == code, script


def test_env_echo_printf_sleep_and_grep(run_async):
    assert sh(["env"], run_async, env={"A": "1", "B": "2"}).output == "A=1\nB=2\n"
    assert sh(["CMD-SHELL", "X=5 env | grep X"], run_async).output == "X=5\n"
    assert sh(["CMD-SHELL", "echo -n a; printf '%s-%d\\n' b 3"], run_async).output == "ab-3\n"
    assert sh(["CMD-SHELL", "echo OK | grep -q ok"], run_async).exit_code == 1
    assert sh(["CMD-SHELL", "echo OK | grep -qi ok"], run_async).exit_code == 0
    assert sh(["CMD-SHELL", "sleep 0.05 && echo slept"], run_async).output == "slept\n"
    assert sh(["CMD-SHELL", "sleep soon"], run_async).exit_code == 1


def test_a_command_past_its_timeout_fails(run_async):
    r = sh(["CMD-SHELL", "while true; do sleep 0.01; done"], run_async, timeout=0.2)
    assert r.exit_code == shell.TIMED_OUT and "timed out" in r.output
    r = sh(["sh", "-c", "while :; do :; done"], run_async, timeout=0.2)  # a busy loop too
    assert r.exit_code == shell.TIMED_OUT


def test_output_streams_as_it_is_produced(run_async):
    seen = []
    r = sh(["sh", "-c", "echo one; echo two >&2; nosuch"], run_async, stdout=seen.append)
    assert "".join(seen) == r.output == "one\ntwo\nsh: nosuch: not found\n"
    assert r.exit_code == 127


# ---------------------------------------------------------------- files

def test_files_live_under_root_with_mounts_and_a_readonly_root(run_async, tmp_path):
    root, volume = tmp_path / "root", tmp_path / "volume"
    root.mkdir(), volume.mkdir()
    kw = dict(root=root, mounts={"/data": volume}, readonly_root=True)
    r = sh(["sh", "-c", "touch /tmp.txt"], run_async, **kw)
    assert r == shell.ShellResult(1, "touch: /tmp.txt: Read-only file system\n")
    r = sh(["sh", "-c", "mkdir /cache"], run_async, **kw)
    assert r == shell.ShellResult(1, "mkdir: can't create directory '/cache': Read-only file system\n")
    r = sh(["sh", "-c", "echo x > /out"], run_async, **kw)
    assert r.exit_code == 2 and r.output == "sh: can't create /out: Read-only file system\n"
    r = sh(["sh", "-c", "mkdir -p /data/a/b && echo hi > /data/a/b/f && cat /data/a/b/f && ls /data/a/b"],
           run_async, **kw)
    assert r == shell.ShellResult(0, "hi\nf\n")
    assert (volume / "a" / "b" / "f").read_text() == "hi\n"
    assert list(root.iterdir()) == []


def test_file_errors_read_like_busybox(run_async, tmp_path):
    r = sh(["sh", "-c", "cat /nope"], run_async, root=tmp_path)
    assert r == shell.ShellResult(1, "cat: can't open '/nope': No such file or directory\n")
    r = sh(["sh", "-c", "mkdir /a/b"], run_async, root=tmp_path)
    assert r == shell.ShellResult(1, "mkdir: can't create directory '/a/b': No such file or directory\n")
    r = sh(["sh", "-c", "mkdir /a; mkdir /a"], run_async, root=tmp_path)
    assert r == shell.ShellResult(1, "mkdir: can't create directory '/a': File exists\n")
    assert sh(["sh", "-c", "ls /zz"], run_async, root=tmp_path) == shell.ShellResult(
        1, "ls: /zz: No such file or directory\n")
    assert sh(["sh", "-c", "echo a >> /log; echo b >> /log; cat < /log"], run_async,
              root=tmp_path).output == "a\nb\n"


def test_nothing_outside_the_container_is_reachable(run_async, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "host-secret"
    secret.write_text("host data")
    os.symlink(secret, root / "link")
    r = sh(["sh", "-c", f"cat /../host-secret; cat ../../{secret.name}; cat /link; cat {secret}"],
           run_async, root=root)
    assert "host data" not in r.output and r.exit_code == 1
    # Without a root the container's own files are an empty, read-only tree.
    assert sh(["sh", "-c", "touch /x"], run_async).output == "touch: /x: Read-only file system\n"
    assert sh(["sh", "-c", "cat /etc/hostname"], run_async).exit_code == 1


# ---------------------------------------------------------------- curl and wget

def test_curl_health_check_forms(run_async):
    async def go():
        async with serving(sample_app()) as port:
            base = f"http://localhost:{port}"
            ok = await shell.run(["CMD-SHELL", f"curl -f {base}/health || exit 1"], env={}, address=TASK_ADDRESS)
            down = await shell.run(["CMD-SHELL", f"curl -f {base}/fail || exit 1"], env={}, address=TASK_ADDRESS)
            direct = await shell.run(["CMD", "curl", "-f", f"{base}/fail"], env={}, address=TASK_ADDRESS)
            quiet = await shell.run(["CMD", "curl", "-fs", f"{base}/fail"], env={}, address=TASK_ADDRESS)
            plain = await shell.run(["CMD", "curl", f"{base}/fail"], env={}, address=TASK_ADDRESS)
            return ok, down, direct, quiet, plain
    ok, down, direct, quiet, plain = run_async(go())
    assert ok.exit_code == 0 and json.loads(ok.output) == {"status": "ok"}
    assert down == shell.ShellResult(1, "curl: (22) The requested URL returned error: 503\n")
    assert direct.exit_code == 22
    assert quiet == shell.ShellResult(22, "")
    assert plain == shell.ShellResult(0, "down")


def test_localhost_is_the_tasks_own_address_and_calls_leave_from_it(run_async):
    async def go():
        async with serving(sample_app()) as port:
            r = await shell.run(["curl", "-s", f"http://localhost:{port}/echo"], env={}, address=TASK_ADDRESS)
            by_ip = await shell.run(["curl", "-s", f"http://127.0.0.1:{port}/echo"], env={}, address=TASK_ADDRESS)
            return r, by_ip
    r, by_ip = run_async(go())
    answer = json.loads(r.output)
    assert answer["peer"] == TASK_ADDRESS
    assert answer["host"].startswith("localhost:")
    assert json.loads(by_ip.output)["peer"] == TASK_ADDRESS


def test_curl_exit_codes_for_refused_timeout_and_unknown_host(run_async):
    async def go():
        async with serving(sample_app()) as port:
            slow = await shell.run(["CMD", "curl", "-m", "0.3", f"http://localhost:{port}/slow"],
                                   env={}, address=TASK_ADDRESS)
            capped = await shell.run(["CMD", "curl", f"http://localhost:{port}/slow"], env={},
                                     address=TASK_ADDRESS, timeout=0.3)
        refused = await shell.run(["CMD", "curl", f"http://localhost:{port}/"], env={}, address=TASK_ADDRESS)
        refused_quiet = await shell.run(["CMD", "curl", "-s", f"http://localhost:{port}/"], env={},
                                        address=TASK_ADDRESS)
        refused_shown = await shell.run(["CMD", "curl", "-sS", f"http://localhost:{port}/"], env={},
                                        address=TASK_ADDRESS)
        unknown = await shell.run(["CMD", "curl", "http://orders.internal/"], env={}, address=TASK_ADDRESS)
        return slow, capped, refused, refused_quiet, refused_shown, unknown, port
    slow, capped, refused, refused_quiet, refused_shown, unknown, port = run_async(go())
    assert slow.exit_code == 28 and "Operation timed out after" in slow.output
    assert capped.exit_code == shell.TIMED_OUT
    assert refused.exit_code == 7
    assert refused.output.startswith(f"curl: (7) Failed to connect to localhost port {port} after ")
    assert refused_quiet == shell.ShellResult(7, "")
    assert refused_shown.exit_code == 7 and refused_shown.output.startswith("curl: (7)")
    assert unknown == shell.ShellResult(6, "curl: (6) Could not resolve host: orders.internal\n")


def test_curl_methods_headers_output_and_write_out(run_async, tmp_path):
    async def go():
        async with serving(sample_app()) as port:
            base = f"http://localhost:{port}"
            post = await shell.run(["curl", "-s", "-X", "PUT", "-H", "X-Test: yes", "-d", "a=1", f"{base}/echo"],
                                   env={}, address=TASK_ADDRESS)
            code = await shell.run(["CMD-SHELL", f"curl -s -o /dev/null -w '%{{http_code}}' {base}/fail"],
                                   env={}, address=TASK_ADDRESS)
            head = await shell.run(["curl", "-sI", f"{base}/health"], env={}, address=TASK_ADDRESS)
            saved = await shell.run(["curl", "-s", "-o", "/data/h.json", f"{base}/health"], env={},
                                    address=TASK_ADDRESS, root=tmp_path, readonly_root=True,
                                    mounts={"/data": tmp_path})
            denied = await shell.run(["curl", "-s", "-o", "/h.json", f"{base}/health"], env={},
                                     address=TASK_ADDRESS, root=tmp_path, readonly_root=True)
            follow = await shell.run(["curl", "-sL", f"{base}/moved"], env={}, address=TASK_ADDRESS)
            nofollow = await shell.run(["curl", "-s", "-w", "%{http_code}", f"{base}/moved"], env={},
                                       address=TASK_ADDRESS)
            return post, code, head, saved, denied, follow, nofollow
    post, code, head, saved, denied, follow, nofollow = run_async(go())
    assert json.loads(post.output) | {"host": None, "peer": None} == {
        "method": "PUT", "body": "a=1", "x": "yes", "host": None, "peer": None}
    assert code == shell.ShellResult(0, "503")
    assert head.output.startswith("HTTP/1.1 200 OK\r\n") and "Content-Type: application/json" in head.output
    assert saved.exit_code == 0 and json.loads((tmp_path / "h.json").read_text()) == {"status": "ok"}
    assert denied.exit_code == 23
    assert json.loads(follow.output) == {"status": "ok"}
    assert nofollow.output.endswith("302")


def test_curl_usage_errors(run_async):
    assert sh(["curl"], run_async).exit_code == 2
    r = sh(["curl", "--bogus", "http://localhost/"], run_async)
    assert r.exit_code == 2 and r.output.startswith("curl: option --bogus: is unknown")


def test_other_hosts_go_through_the_proxy(run_async):
    async def proxy_handler(request: web.Request) -> web.Response:
        # An HTTP proxy receives the absolute URL as the request target.
        return web.Response(text=f"via proxy: {request.url}")

    async def go():
        proxy = web.Application()
        proxy.router.add_route("*", "/{tail:.*}", proxy_handler)
        async with serving(proxy, "127.0.0.1") as proxy_port:
            r = await shell.run(["curl", "-s", "http://orders.internal:8080/orders"], env={},
                                address=TASK_ADDRESS, proxy=f"http://127.0.0.1:{proxy_port}")
            w = await shell.run(["wget", "-q", "-O", "-", "http://orders.internal/x"], env={},
                                address=TASK_ADDRESS, proxy=f"http://127.0.0.1:{proxy_port}")
            return r, w
    r, w = run_async(go())
    assert r == shell.ShellResult(0, "via proxy: http://orders.internal:8080/orders")
    assert w == shell.ShellResult(0, "via proxy: http://orders.internal/x")


def test_wget_like_busybox(run_async, tmp_path):
    async def go():
        async with serving(sample_app()) as port:
            base = f"http://localhost:{port}"
            out = await shell.run(["CMD-SHELL", f"wget -q -O - {base}/health"], env={}, address=TASK_ADDRESS)
            spider = await shell.run(["CMD-SHELL", f"wget -q --spider {base}/health"], env={}, address=TASK_ADDRESS)
            missing = await shell.run(["wget", "-q", "-O", "-", f"{base}/nope"], env={}, address=TASK_ADDRESS)
            slow = await shell.run(["wget", "-q", "-T", "0.3", "-O", "-", f"{base}/slow"], env={},
                                   address=TASK_ADDRESS)
            saved = await shell.run(["sh", "-c", f"cd /dl && wget {base}/health && cat health"], env={},
                                    address=TASK_ADDRESS, root=tmp_path, mounts={"/dl": tmp_path})
            readonly = await shell.run(["wget", "-q", f"{base}/health"], env={}, address=TASK_ADDRESS,
                                       root=tmp_path, readonly_root=True)
        refused = await shell.run(["wget", "-q", "-O", "-", f"{base}/health"], env={}, address=TASK_ADDRESS)
        bad = await shell.run(["wget", "-q", "http://nowhere.internal/"], env={}, address=TASK_ADDRESS)
        return out, spider, missing, slow, saved, readonly, refused, bad
    out, spider, missing, slow, saved, readonly, refused, bad = run_async(go())
    assert out.exit_code == 0 and json.loads(out.output) == {"status": "ok"}
    assert spider == shell.ShellResult(0, "")
    assert missing == shell.ShellResult(1, "wget: server returned error: HTTP/1.1 404 Not Found\n")
    assert slow == shell.ShellResult(1, "wget: download timed out\n")
    assert saved.exit_code == 0 and "saving to 'health'" in saved.output and '"ok"' in saved.output
    assert readonly == shell.ShellResult(1, "wget: can't open 'health': Read-only file system\n")
    assert refused == shell.ShellResult(
        1, f"wget: can't connect to remote host ({TASK_ADDRESS}): Connection refused\n")
    assert bad == shell.ShellResult(1, "wget: bad address 'nowhere.internal'\n")
