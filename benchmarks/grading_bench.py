"""Batch grading speed: `mylearning grade` against an otter-style baseline, in one run.

Builds N distinct submissions of a lab (`--lab`, default 02) from its solution notebook: full ones,
partial ones (some solution cells replaced by the learner's blank version, as
a learner who stopped half-way would hand in), and blank ones. Each carries
its learner's name, so no two are byte-identical and no grade is reused.

Then grades them twice:

* ours: `grade_batch` - a fresh kernel per submission (booted while the
  previous one runs), one long-lived emulator per worker reset between
  submissions, and the checks evaluated in the grader's process;
* baseline, the otter-grader way: per submission a fresh Python process
  (as `otter run` in its own process or container) that executes the
  notebook in a new kernel whose first cell starts moto's in-process
  `mock_aws`, and whose last cell runs the checks inside that same kernel
  and prints the score. No Docker, and plain moto without our fidelity
  layer: both make the baseline faster than real otter on this course.

Ours runs twice, with the operating-system sandbox (the default) and without
(`--no-sandbox`), so the sandbox's cost is measured too. Both sides use the
same number of workers. It prints each side's median seconds per
submission (ours: time on the worker's critical path, i.e. waiting for the
pre-booted kernel, executing, evaluating, resetting; baseline: process start to
score), their ratio, batch wall time per submission (the honest throughput
figure: it includes ours' start-up and every kernel boot), and whether the two
agree on the scores; then 100 submissions with 2 workers, sandboxed, against
the 60 s target (`--no-hundred` skips it). `--light` adds a second baseline whose kernels are started
by this process (no fresh process per submission): a lower bound for otter.

    .venv/bin/python benchmarks/grading_bench.py            # N=12, 2 workers, + 100 submissions
    .venv/bin/python benchmarks/grading_bench.py --lab 03 --no-hundred   # labs whose tasks run:
        # their baseline gets a fresh emulator + data plane per submission (moto alone runs no task)
    .venv/bin/python benchmarks/grading_bench.py --workers 1 --no-hundred --light
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAB = "02"
SOLUTION = ROOT / "solutions" / "02-cluster.ipynb"
#: Labs whose notebooks need tasks that run (the data plane): in-kernel moto cannot run
#: them, so their otter-style baseline starts a fresh `mylearning emulator` (with its data
#: plane) per submission instead, still with a fresh process and in-kernel checks.
NEEDS_DATAPLANE = {"03", "04", "05"}


def use_lab(lab: str) -> None:
    """Point the benchmark at lab `lab` (its solution notebook)."""
    global LAB, SOLUTION
    from mylearning import course
    LAB = course.about(lab).number
    found = sorted((ROOT / "solutions").glob(f"{LAB}-*.ipynb"))
    if not found:
        raise SystemExit(f"no solution notebook for lab {lab}")
    SOLUTION = found[0]
TARGET_RATIO = 10.0
TARGET_100_SECONDS = 60.0
SANDBOX_BUDGET = 0.10


# ---------------------------------------------------------------- submissions

def build_submissions(folder: Path, n: int, seed: int = 2) -> dict[str, str]:
    """Write n distinct lab-02 notebooks; return name -> kind (full/partial/blank)."""
    from mylearning.authoring import BEGIN, strip_code

    solution = json.loads(SOLUTION.read_text())
    answer_cells = [i for i, c in enumerate(solution["cells"])
                    if c["cell_type"] == "code" and BEGIN in "".join(c["source"])]
    rng = random.Random(seed)
    kinds: dict[str, str] = {}
    for k in range(n):
        kind = ("full", "partial", "blank")[k % 3]
        nb = json.loads(json.dumps(solution))
        if kind == "blank":
            blanked = set(answer_cells)
        elif kind == "partial":
            keep = rng.randint(1, len(answer_cells) - 1)
            blanked = set(answer_cells[keep:])  # stopped half-way through the lab
        else:
            blanked = set()
        for i in blanked:
            cell = nb["cells"][i]
            cell["source"] = strip_code("".join(cell["source"]))
        nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {},
                               "source": f"Submitted by learner {k:03d}"})
        name = f"learner{k:03d}.ipynb"
        (folder / name).write_text(json.dumps(nb))
        kinds[name] = kind
    return kinds


# ---------------------------------------------------------------- ours

def grade_ours(folder: Path, out: Path, workers: int, sandbox: bool = True
               ) -> tuple[dict[str, float], dict[str, float], float]:
    import io

    from mylearning.grading import GradingOptions, grade_batch

    t0 = time.perf_counter()
    result = grade_batch([folder], GradingOptions(lab=LAB, out=out, workers=workers,
                                                  force=True, progress=False, sandbox=sandbox,
                                                  stream=io.StringIO()))
    wall = time.perf_counter() - t0
    if result.failures:
        raise SystemExit(f"ours failed to grade: {result.failures}")
    seconds = {g.submission: g.seconds for g in result.grades}
    scores = {g.submission: g.total for g in result.grades}
    print(f"{'':<10}startup (emulators ready, checks warmed) {result.phases.get('preflight', 0):.1f} s; "
          f"shutdown {result.phases.get('end', 0) - result.phases.get('graded', 0):.1f} s")
    return seconds, scores, wall


# ---------------------------------------------------------------- otter-style baseline

_BASELINE_PROLOGUE = (
    "from moto import mock_aws\n"
    "_mock = mock_aws()\n"
    "_mock.start()\n")
#: For labs with running tasks: this submission's own emulator and data plane.
_BASELINE_EMULATOR_PROLOGUE = (
    "import os as _os, subprocess as _sp, sys as _sys\n"
    "_emu = _sp.Popen([_sys.executable, '-m', 'mylearning', 'emulator', '--port', '0'],\n"
    "                 stdout=_sp.PIPE, stderr=_sp.DEVNULL, text=True)\n"
    "_os.environ['MYLEARNING_ENDPOINT'] = _emu.stdout.readline().strip()\n"
    "_os.environ['MYLEARNING_BACKEND'] = 'emulator'\n")


def _baseline_epilogue() -> str:
    return ("import json as _json\n"
            "from mylearning import course as _course\n"
            "import mylearning as _ml\n"
            f"_report = _course.grader({LAB!r}).evaluate(_ml.connect(quiet=True))\n"
            "print('BASELINE-SCORE', _json.dumps({'total': _report.total}))\n"
            "if '_emu' in globals(): _emu.terminate(); _emu.wait(30)\n")


def _baseline_env(home: Path) -> dict[str, str]:
    from mylearning.backend import OPT_IN_PHRASE
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "MYLEARNING_"))}
    env.update({
        "HOME": str(home), "MYLEARNING_HOME": str(home / ".mylearning"),
        "MYLEARNING_LEARNER": "student", "MYLEARNING_REGION": "us-east-1",
        # In-kernel moto intercepts boto3 calls to AWS's own endpoints: the notebook
        # connects as for a real account, and mock_aws answers.
        "MYLEARNING_BACKEND": "aws", "MYLEARNING_AWS_OPT_IN": OPT_IN_PHRASE,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def _baseline_execute(path: Path, home: Path) -> float | None:
    """In the baseline's fresh process: run one notebook otter-style, return its score."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    prologue = _BASELINE_EMULATOR_PROLOGUE if LAB in NEEDS_DATAPLANE else _BASELINE_PROLOGUE
    cells = ([nbformat.v4.new_code_cell(prologue)] + code
             + [nbformat.v4.new_code_cell(_baseline_epilogue())])
    run_nb = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(run_nb, kernel_name="python3", timeout=300, allow_errors=True,
                            shutdown_kernel="immediate", coalesce_streams=True,
                            extra_arguments=["--HistoryManager.enabled=False",
                                             "--Application.log_level=50"])
    client.execute(env=_baseline_env(home), cwd=str(home))
    text = "".join(out.get("text", "") for out in run_nb.cells[-1].get("outputs", []))
    if "BASELINE-SCORE" not in text:
        return None
    return json.loads(text.split("BASELINE-SCORE", 1)[1].strip().splitlines()[0])["total"]


async def _baseline_one(path: Path, workdir: Path,
                        light: bool = False) -> tuple[float, float | None]:
    """One submission, the otter way: a fresh Python process that runs it in a new kernel.

    `light` skips the fresh process (the kernel is started from this one): a
    lower bound for the baseline, reported separately.
    """
    t0 = time.perf_counter()
    home = Path(tempfile.mkdtemp(dir=workdir))
    if light:
        score = await asyncio.to_thread(_baseline_execute, path, home)
        return time.perf_counter() - t0, score
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--lab", LAB, "--baseline-run", str(path), "--baseline-home", str(home),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    score = None
    for line in out.decode().splitlines():
        if line.startswith("SCORE "):
            score = json.loads(line[6:])
    return time.perf_counter() - t0, score


async def _baseline_all(paths: list[Path], workers: int, workdir: Path, light: bool):
    gate = asyncio.Semaphore(workers)
    results: dict[str, tuple[float, float | None]] = {}

    async def one(path: Path) -> None:
        async with gate:
            results[path.name] = await _baseline_one(path, workdir, light)

    await asyncio.gather(*(one(p) for p in paths))
    return results


def grade_baseline(paths: list[Path], workers: int, workdir: Path, light: bool = False):
    t0 = time.perf_counter()
    results = asyncio.run(_baseline_all(paths, workers, workdir, light))
    wall = time.perf_counter() - t0
    return ({k: v[0] for k, v in results.items()}, {k: v[1] for k, v in results.items()}, wall)


# ---------------------------------------------------------------- report

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", default="02", help="the lab to grade (default 02, as the target names)")
    parser.add_argument("--n", type=int, default=12, help="submissions to build (default 12)")
    parser.add_argument("--workers", type=int, default=2, help="workers on both sides (default 2)")
    parser.add_argument("--baseline-n", type=int, default=None,
                        help="grade only the first K submissions the baseline way (default: all); "
                             "its median is per submission, so a sample suffices for --n 100")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--no-hundred", dest="hundred", action="store_false",
                        help="skip the 100-submission run with 2 workers")
    parser.add_argument("--light", action="store_true",
                        help="also run a lighter baseline whose kernels this process starts "
                             "(no fresh process per submission)")
    parser.add_argument("--baseline-run", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    use_lab(args.lab)
    if args.baseline_run:  # inside one baseline submission's fresh process
        print("SCORE", json.dumps(_baseline_execute(Path(args.baseline_run),
                                                     Path(args.baseline_home))))
        return 0
    if not SOLUTION.exists():
        print(f"{SOLUTION} does not exist yet.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        tmp_path = Path(tmp)
        subs = tmp_path / "submissions"
        subs.mkdir()
        kinds = build_submissions(subs, args.n)
        print(f"{args.n} submissions of lab {LAB}: "
              + ", ".join(f"{sum(k == kind for k in kinds.values())} {kind}"
                          for kind in ("full", "partial", "blank"))
              + f"; {args.workers} workers; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.2f}")

        ours_s, ours_score, ours_wall = grade_ours(subs, tmp_path / "out", args.workers)
        ours_med = statistics.median(ours_s.values())
        print(f"{'ours:':<10}median {ours_med:6.2f} s/submission (critical path), "
              f"batch wall {ours_wall:6.1f} s, {ours_wall / args.n:5.2f} s/submission of wall "
              "(sandboxed)")
        bare_s, _, bare_wall = grade_ours(subs, tmp_path / "out-bare", args.workers,
                                          sandbox=False)
        bare_med = statistics.median(bare_s.values())
        print(f"{'ours-bare:':<10}median {bare_med:6.2f} s/submission, batch wall "
              f"{bare_wall:6.1f} s, {bare_wall / args.n:5.2f} s/submission of wall (no sandbox)")
        cost = ours_wall / bare_wall - 1
        print(f"{'sandbox:':<10}costs {100 * cost:+.1f}% of batch wall time, "
              f"{100 * (ours_med / bare_med - 1):+.1f}% of the median "
              f"(budget {100 * SANDBOX_BUDGET:.0f}%)")
        if not args.skip_baseline:
            sample = sorted(subs.glob("*.ipynb"))[: args.baseline_n or args.n]
            variants = [("baseline", False)] + ([("baseline-light", True)] if args.light else [])
            for label, light in variants:
                base_s, base_score, base_wall = grade_baseline(sample, args.workers, tmp_path,
                                                               light)
                base_med = statistics.median(base_s.values())
                aws = ("its own emulator + data plane" if LAB in NEEDS_DATAPLANE
                       else "in-kernel mock_aws")
                what = ("kernel started by this process, no fresh process" if light else
                        f"fresh process + kernel + {aws} + in-kernel checks")
                print(f"{label + ':':<10}median {base_med:6.2f} s/submission ({what}), batch "
                      f"wall {base_wall:6.1f} s for {len(sample)}, "
                      f"{base_wall / len(sample):5.2f} s/submission of wall")
                for who, med, wall in (("ours", ours_med, ours_wall),
                                       ("ours-bare", bare_med, bare_wall)):
                    ratio = base_med / med
                    wall_ratio = (base_wall / len(sample)) / (wall / args.n)
                    verdict = "meets" if wall_ratio >= TARGET_RATIO else "misses"
                    print(f"{'ratio:':<10}{who}: {ratio:.1f}x per submission (medians), "
                          f"{wall_ratio:.1f}x per submission of batch wall time ({verdict} "
                          f"the {TARGET_RATIO:g}x target)")
                agree = sum(1 for k in base_score if base_score[k] == ours_score.get(k))
                print(f"{'scores:':<10}agree on {agree}/{len(base_score)} submissions "
                      + ("" if LAB in NEEDS_DATAPLANE else
                         "(the baseline runs on plain moto, without the fidelity layer)"))
        if args.hundred:
            many = tmp_path / "hundred"
            many.mkdir()
            build_submissions(many, 100, seed=3)
            _, _, wall100 = grade_ours(many, tmp_path / "out-100", 2)
            verdict = "meets" if wall100 < TARGET_100_SECONDS else "misses"
            print(f"target:   100 submissions of lab {LAB} in {wall100:.1f} s with 2 workers, "
                  f"sandboxed ({verdict} the {TARGET_100_SECONDS:.0f} s target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
