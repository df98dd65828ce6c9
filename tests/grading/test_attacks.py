"""A hostile cohort: one submission per attack class, graded twice beside honest ones.

Every attacker is lab 00 with the honest answers to steps 0.1 and 0.2, and an
attack between them; an attack that *works* records the answer to step 0.3, so
its grade rises to 3. Each test then asserts, for its attack class, that the
attacker got its honest grade (2) or a zero with the reason; that the honest
submissions got theirs in this run and in the next (run with --force, so it
grades again after whatever the attacks left); that the instructor's files are
unchanged and no secret reached a feedback file; and that no process remains.

Attacks that would do harm outside the test if the sandbox failed are bounded
(a fork bomb of 400, memory of 2 GiB) and never signal process -1.
"""
from __future__ import annotations

import hashlib
import json
import os
import site
import uuid
from pathlib import Path

import psutil
import pytest

import mylearning
from tests.grading.helpers import (DATE, IDENTITY, ROOT, SETUP, SUCCESSOR, csv_rows, grade_cli,
                                   grading_leftovers, notebook, record, write)

pytestmark = pytest.mark.skipif(
    __import__("mylearning.grading.isolation", fromlist=["probe"]).probe().landlock_abi < 6,
    reason="the sandbox needs Landlock ABI 6 or later")

MARKER = "mlgradeattack" + uuid.uuid4().hex[:8]
CANARY = "canary-" + uuid.uuid4().hex
WON = "won = False\n"
# The attack succeeded: claim the point for step 0.3 (and say so, for a failing test's message).
CLAIM = f"if won:\n    {SUCCESSOR}\n    print('ATTACK WORKED')"
LIMITS = ["--cell-timeout", "20", "--timeout", "60", "--max-memory-mb", "1024",
          "--max-processes", "64", "--max-disk-mb", "64"]
#: A process that outlives its kernel unless the sandbox ends it, recognisable by MARKER.
SLEEPER = f"[sys.executable, '-c', 'import time; time.sleep(120)', '{MARKER}']"


def _attack(*cells: str) -> dict:
    return notebook(SETUP, IDENTITY, WON, *cells, DATE, CLAIM)


def _targets(tmp: Path) -> dict[str, Path]:
    """Where attackers try to write: course code, graders, site-packages, IPython startup."""
    name = f"_attack_{MARKER}"
    return {
        "course": Path(mylearning.__file__).parent / f"{name}.py",
        "graders": ROOT / "graders" / f"{name}.py",
        "site": Path(site.getsitepackages()[0]) / f"{name}.pth",
        "ipython": Path.home() / ".ipython" / "profile_default" / "startup" / f"{name}.py",
        "tmp": Path("/tmp") / f"{name}.bin",
    }


def cases(tmp: Path, subs: Path, out: Path) -> dict[str, dict]:
    targets = _targets(tmp)
    secret = tmp / "instructor" / "secret.txt"
    writes = "\n".join(
        f"try:\n    os.makedirs(os.path.dirname({str(p)!r}), exist_ok=True)\n"
        f"    open({str(p)!r}, 'w').write('import os  # pwned')\n    won = True\n"
        "except OSError:\n    pass" for p in targets.values() if p.name.endswith((".py", ".pth")))
    return {
        # Rewrite what later kernels and runs import: course code, graders, venv, IPython.
        "rewrites_code.ipynb": _attack("import os\n" + writes),
        # Delete or replace the instructor's submissions; plant non-files where outputs go.
        "destroys_submissions.ipynb": _attack(
            "import os\n"
            f"for victim in ('honest_full.ipynb', 'honest_part.ipynb'):\n"
            "    try:\n"
            f"        os.remove(os.path.join({str(subs)!r}, victim)); won = True\n"
            "    except OSError:\n        pass\n"
            "try:\n"
            f"    open(os.path.join({str(subs)!r}, 'honest_full.ipynb'), 'w').write('{{}}'); won = True\n"
            "except OSError:\n    pass\n"
            "for planted in ('honest_part', 'grades.csv'):\n"
            "    try:\n"
            f"        os.mkfifo(os.path.join({str(out)!r}, planted + '.fifo')); won = True\n"
            "    except OSError:\n        pass\n"
            "try:\n"
            f"    os.symlink('/etc/passwd', os.path.join({str(out)!r}, 'summary.txt')); won = True\n"
            "except OSError:\n    pass"),
        # Read the instructor's files and the grader's environment; echo them into feedback.
        "reads_secrets.ipynb": _attack(
            "import os, glob\nloot = []\n"
            f"for path in [{str(secret)!r}, '/proc/%s/environ' % os.environ.get('JPY_PARENT_PID'),"
            " '/proc/1/environ', os.path.expanduser('~root/.bash_history'),"
            f" {str(subs / 'honest_full.ipynb')!r}]:\n"
            "    try:\n        loot.append(open(path, errors='replace').read()[:2000]); won = True\n"
            "    except OSError:\n        pass\n"
            "loot.append(' '.join(os.environ.values()))\n"
            "raise RuntimeError(' | '.join(loot))",
            # An exception whose name and message try to forge feedback lines.
            "Forged = type('X\\n## [PASS] Step 0.3 (1/1)\\n', (Exception,), {})\n"
            "raise Forged('\\n\\n**Score: 3 / 3**\\n# FULL MARKS\\x1b[2J')"),
        # Build or wipe resources in another worker's emulator (or its own, unauthenticated).
        "other_emulator.ipynb": _attack(
            "import os, socket, urllib.request, boto3\n"
            "own = int(os.environ['MYLEARNING_ENDPOINT'].rsplit(':', 1)[1])\n"
            "for port in range(max(1024, own - 300), min(65535, own + 300)):\n"
            "    if port == own:\n        continue\n"
            "    s = socket.socket(); s.settimeout(0.05)\n"
            "    try:\n        s.connect(('127.0.0.1', port)); won = True\n"
            "    except OSError:\n        pass\n"
            "    finally:\n        s.close()\n"
            "try:\n"
            "    urllib.request.urlopen(urllib.request.Request(os.environ['MYLEARNING_ENDPOINT']"
            " + '/moto-api/reset', method='POST'), timeout=5); won = True\n"
            "except Exception:\n    pass\n"
            "try:\n"
            "    boto3.client('ssm', region_name='us-east-1', endpoint_url=os.environ["
            "'MYLEARNING_ENDPOINT'], aws_access_key_id='x', aws_secret_access_key='x')"
            ".put_parameter(Name='/x', Value='y', Type='String'); won = True\n"
            "except Exception:\n    pass"),
        # Run code in another submission's kernel through its connection file or sockets.
        "other_kernel.ipynb": _attack(
            "import glob, os\n"
            "mine = os.environ['JUPYTER_RUNTIME_DIR']\n"
            "for pattern in ['/tmp/mylearning-grade-*/sub-*/box/ipc/kernel.json',"
            " os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(mine))), '*', 'box',"
            " 'ipc', 'kernel.json')]:\n"
            "    for path in glob.glob(pattern):\n"
            "        if not path.startswith(mine):\n"
            "            try:\n                open(path).read(); won = True\n"
            "            except OSError:\n                pass"),
        # Attach a debugger to the grader, signal it, read its memory.
        "debugger.ipynb": _attack(
            "import ctypes, os, signal\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "grader = int(os.environ['JPY_PARENT_PID'])\n"
            "if libc.ptrace(16, grader, 0, 0) == 0:\n    won = True\n"
            "for pid in {grader, os.getppid()} - {0, 1}:\n"
            "    try:\n        os.kill(pid, signal.SIGCONT); won = True\n"
            "    except OSError:\n        pass\n"
            "try:\n    open('/proc/%d/mem' % grader, 'rb').read(1); won = True\n"
            "except OSError:\n    pass"),
        # Outlive the grader: a chain of orphans that forges a result later.
        "outlives.ipynb": _attack(
            "import os, sys, json, time\n"
            "forged = json.dumps({'score': 3, 'tests': [], 'extra_data': {}})\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    for hop in range(300):\n"
            "        if os.fork():\n            os._exit(0)\n"
            "        time.sleep(0.2)\n"
            "        try:\n"
            f"            open({str(out / 'honest_part' / 'results.json')!r}, 'w').write(forged)\n"
            "        except OSError:\n            pass\n"
            f"    os.execv(sys.executable, {SLEEPER})\n"
            f"import subprocess\nsubprocess.Popen({SLEEPER}, start_new_session=True)"),
        # Exhaust memory and processes through children; fill /tmp and the scratch folder.
        "exhausts.ipynb": _attack(
            "import os, sys, subprocess\nkids = []\n"
            "for n in range(400):\n"
            "    try:\n"
            f"        kids.append(subprocess.Popen({SLEEPER}))\n"
            "    except OSError:\n        break\n"
            "if len(kids) > 100:\n    won = True\n"
            "hogs = [subprocess.Popen([sys.executable, '-c', 'x = bytearray(400 * 2 ** 20); "
            f"x[::4096] = b\"1\" * len(x[::4096]); import time; time.sleep(60)', '{MARKER}'])"
            " for _ in range(5)]\n"
            "import time\ntime.sleep(3)\n"
            "if sum(h.poll() is None for h in hogs) > 2:\n    won = True\n"
            "try:\n"
            f"    open({str(targets['tmp'])!r}, 'wb').write(b'x' * 2 ** 20); won = True\n"
            "except OSError:\n    pass\n"
            "try:\n"
            "    with open('fill.bin', 'wb') as fh:\n"
            "        for _ in range(200):\n            fh.write(b'x' * 2 ** 20)\n"
            "    won = True\n"
            "except OSError:\n    pass\n"
            "for k in kids:\n    k.kill()"),
        "honest_full.ipynb": notebook(SETUP, IDENTITY, DATE, SUCCESSOR),
        "honest_part.ipynb": notebook(SETUP, IDENTITY, "import time\ntime.sleep(2)", DATE),
    }


HONEST = {"honest_full": 3, "honest_part": 2}
ATTACKERS = ["rewrites_code", "destroys_submissions", "reads_secrets", "other_emulator",
             "other_kernel", "debugger", "outlives", "exhausts"]


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftover_markers() -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if MARKER in " ".join(proc.info["cmdline"] or []):
                found.append(str(proc.info["pid"]))
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    subs, out = tmp / "subs", tmp / "out"
    subs.mkdir()
    (tmp / "instructor").mkdir()
    (tmp / "instructor" / "secret.txt").write_text(CANARY)
    for name, content in cases(tmp, subs, out).items():
        write(subs, name, content)
    before = {"subs": _digests(subs), "course": _digests(Path(mylearning.__file__).parent),
              "graders": _digests(ROOT / "graders")}
    env_secret = {"MYLEARNING_TEST_SECRET": CANARY}
    os.environ.update(env_secret)
    try:
        first, pid1 = grade_cli("--lab", "00", "--out", str(out), "--workers", "2",
                                "--require-sandbox", *LIMITS, str(subs))
        first_rows = csv_rows(out) if (out / "grades.csv").exists() else {}
        first_records = {slug: record(out, slug) for slug in HONEST.keys() | set(ATTACKERS)
                         if (out / slug / "results.json").exists()}
        leftovers_first = grading_leftovers(pid1, MARKER) + _leftover_markers()
        second, pid2 = grade_cli("--lab", "00", "--out", str(out), "--workers", "2", "--force",
                                 "--require-sandbox", *LIMITS, str(subs))
    finally:
        os.environ.pop("MYLEARNING_TEST_SECRET", None)
        for target in _targets(tmp).values():  # only if an attack got through
            target.unlink(missing_ok=True)
        for pid in _leftover_markers():
            with __import__("contextlib").suppress(psutil.Error):
                psutil.Process(int(pid)).kill()
    yield {"tmp": tmp, "subs": subs, "out": out, "first": first, "second": second,
           "first_rows": first_rows, "first_records": first_records, "before": before,
           "leftovers": leftovers_first + grading_leftovers(pid2, MARKER) + _leftover_markers()}


def _assert_common(runs, slug: str, *, allow_zero_reason: str | None = None) -> dict:
    """The attacker's honest grade, the honest ones in both runs, files intact, no process."""
    assert runs["first"].returncode == 0, runs["first"].stderr[-3000:]
    assert runs["second"].returncode == 0, runs["second"].stderr[-3000:]
    rec = runs["first_records"][slug]
    text = "\n".join(rec["reasons"] + rec["notes"])
    if allow_zero_reason and rec["total"] == 0:
        assert allow_zero_reason in text
    else:
        assert rec["total"] == 2, f"{slug}: {text}"
        assert [s["passed"] for s in rec["steps"]] == [True, True, False]
    assert rec["protection"]["sandboxed"] and rec["protection"]["landlock_abi"] >= 6
    out = runs["out"]
    for honest, expected in HONEST.items():
        assert runs["first_records"][honest]["total"] == expected, honest
        assert record(out, honest)["total"] == expected, honest  # the next run too
        assert runs["first_rows"][f"{honest}.ipynb"]["total"] == str(expected)
        assert csv_rows(out)[f"{honest}.ipynb"]["total"] == str(expected)
    assert record(out, slug)["total"] == rec["total"]  # the attacker's grade is stable
    assert _digests(runs["subs"]) == runs["before"]["subs"]
    assert _digests(Path(mylearning.__file__).parent) == runs["before"]["course"]
    assert _digests(ROOT / "graders") == runs["before"]["graders"]
    for target in _targets(runs["tmp"]).values():
        assert not target.exists(), target
    assert runs["leftovers"] == []
    for path in out.rglob("*"):
        if path.is_file():
            assert CANARY not in path.read_text(errors="replace"), path
    return rec


def test_rewriting_course_code_venv_or_ipython_config_is_denied(runs):
    _assert_common(runs, "rewrites_code")


def test_submissions_and_output_paths_cannot_be_replaced(runs):
    _assert_common(runs, "destroys_submissions")
    out = runs["out"]
    assert not list(out.glob("*.fifo")) and not (out / "summary.txt").is_symlink()
    assert (out / "summary.txt").read_text().startswith("Graded 10 submissions")


def test_instructor_files_and_grader_environment_never_reach_feedback(runs):
    rec = _assert_common(runs, "reads_secrets")
    errors = rec["execution"]["errors"]
    assert [e["ename"] for e in errors] == ["RuntimeError", "XPASSStep0.311"]
    feedback = (runs["out"] / "reads_secrets" / "feedback.md").read_text()
    lines = feedback.splitlines()
    # Only the grader's own headings: the forged "## [PASS] Step 0.3" is flattened into its line.
    # (A note from the grader may add its own heading; none comes from the submission.)
    headings = [line for line in lines if line.startswith("## ")]
    assert set(headings) <= {"## How your notebook ran", "## Steps", "## Notes from the grader"}, headings
    assert {"## How your notebook ran", "## Steps"} <= set(headings)
    assert not any(line.startswith(("**Score: 3", "# FULL")) for line in lines)
    assert "\x1b" not in feedback


def test_another_workers_emulator_cannot_be_reached(runs):
    _assert_common(runs, "other_emulator")


def test_another_submissions_kernel_cannot_be_reached(runs):
    _assert_common(runs, "other_kernel")


def test_the_grader_cannot_be_traced_or_signalled(runs):
    _assert_common(runs, "debugger")


def test_nothing_outlives_the_submission_and_no_forgery_is_trusted(runs):
    _assert_common(runs, "outlives")
    data = json.loads((runs["out"] / "honest_part" / "results.json").read_text())
    assert data["score"] == 2 and data["tests"]


def test_memory_processes_and_disk_are_capped(runs):
    _assert_common(runs, "exhausts")


def test_forged_results_are_not_trusted_on_resume(runs, tmp_path):
    """A results.json the grader did not write (here: planted after the run) is graded again."""
    out = runs["out"]
    victim = out / "honest_part" / "results.json"
    data = json.loads(victim.read_text())
    data["extra_data"]["mylearning"]["steps"][2].update(points=1.0, passed=True)
    victim.write_text(json.dumps(data))
    only = tmp_path / "subs"
    only.mkdir()
    (only / "honest_part.ipynb").write_bytes((runs["subs"] / "honest_part.ipynb").read_bytes())
    proc, pid = grade_cli("--lab", "00", "--out", str(out), *LIMITS, str(only))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "were not written by this grader" in proc.stderr
    assert record(out, "honest_part")["total"] == 2
    assert grading_leftovers(pid) == []
