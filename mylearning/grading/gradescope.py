"""`mylearning gradescope --lab NN --out autograder.zip`: the course as a Gradescope autograder.

Gradescope's autograder specification: the zip holds `setup.sh` (run once as
root when the image is built, from /autograder/source) and `run_autograder`
(run per submission, which Gradescope places in /autograder/submission); the
grade goes to /autograder/results/results.json. The bundle carries this very
course checkout's code (the package and the graders, not the solutions), so
the image grades with the same version, and `run_autograder` calls the same
`grade_batch` as `mylearning grade`: a Gradescope grade and an instructor's
batch grade of the same notebook are the same grade, sandbox included.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from mylearning import course

ROOT = Path(__file__).resolve().parents[2]
#: What of the checkout the bundle carries (never solutions/ or labs/).
_COURSE_PARTS = ("pyproject.toml", "README.md", "mylearning", course.GRADERS_PACKAGE)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the image.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update && apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install ./course
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and MYLEARNING_PYTHON
# exist for the course's own test, which runs it in a temporary tree.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{MYLEARNING_PYTHON:-$ROOT/venv/bin/python}}"
export PYTHONPATH="$ROOT/source/course"
exec "$PY" -m mylearning.grading.gradescope --lab {lab} --root "$ROOT"
"""


def build(lab: str, out: Path) -> Path:
    """Write the autograder zip for `lab` to `out`; return its path."""
    import mylearning
    from mylearning import course
    from mylearning.grading.records import code_fingerprint
    from mylearning.identity import lab_id

    number = lab_id(lab)
    course.grader(number)  # an unknown lab fails here, before anything is written
    fingerprint = code_fingerprint([ROOT / "mylearning", ROOT / course.GRADERS_PACKAGE])
    manifest = {"lab": number, "version": mylearning.__version__, "code": fingerprint}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", SETUP_SH)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER.format(lab=number))
        _add_text(zf, "manifest.json", json.dumps(manifest, indent=2) + "\n", 0o644)
        for part in _COURSE_PARTS:
            source = ROOT / part
            files = [source] if source.is_file() else sorted(source.rglob("*"))
            for path in files:
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, "course/" + path.relative_to(ROOT).as_posix())
    return out


def _add_text(zf: zipfile.ZipFile, name: str, text: str, mode: int = 0o755) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def _result(score: float, output: str) -> dict[str, Any]:
    return {"score": score, "output": output, "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def run_autograder(lab: str, root: Path) -> dict[str, Any]:
    """Grade the notebook in `root`/submission as `mylearning grade` would; write the result."""
    from mylearning.grading import GradingOptions, grade_batch
    from mylearning.grading.job import GradingError
    from mylearning.grading.outputs import RESULTS_JSON

    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    notebooks = sorted((root / "submission").rglob("*.ipynb"))
    notebooks = [n for n in notebooks if ".ipynb_checkpoints" not in n.parts]
    if not notebooks:
        data = _result(0.0, "No notebook (.ipynb) was submitted. Upload your lab notebook.")
    else:
        chosen = notebooks[0]
        with tempfile.TemporaryDirectory(prefix="mylearning-gradescope-") as tmp:
            try:
                result = grade_batch([chosen], GradingOptions(lab=lab, out=Path(tmp) / "out",
                                                              workers=1, progress=False))
            except GradingError as exc:
                data = _result(0.0, f"The autograder could not run: {exc}")
            else:
                if result.grades:
                    slug = result.grades[0].slug
                    data = json.loads((Path(tmp) / "out" / slug / RESULTS_JSON).read_text())
                else:
                    data = _result(0.0, "The autograder could not grade this notebook: "
                                   + "; ".join(result.failures))
        if len(notebooks) > 1:
            data["output"] = (f"Several notebooks were submitted; graded {chosen.name}.\n"
                              + data.get("output", ""))
    tmp_path = results.with_suffix(".tmp")
    tmp_path.write_text(json.dumps(data, indent=2) + "\n")
    tmp_path.replace(results)
    return data


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("gradescope", help="build a Gradescope autograder bundle for a lab",
                       description="Write a Gradescope autograder zip (setup.sh, "
                                   "run_autograder, this course's code) that grades one "
                                   "submitted notebook exactly as `mylearning grade` does.")
    p.add_argument("--lab", required=True, help="lab number, e.g. 02")
    p.add_argument("--out", default="autograder.zip", help="zip to write")
    p.set_defaults(func=_cli)
    return p


def _cli(args: argparse.Namespace) -> int:
    try:
        path = build(args.lab, Path(args.out))
    except (KeyError, ValueError) as exc:
        print(f"mylearning gradescope: {str(exc).strip(chr(39))}", file=sys.stderr)
        return 2
    print(f"Wrote {path}: upload it as the assignment's autograder (Configure Autograder > "
          "Zip file upload).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mylearning.grading.gradescope")
    parser.add_argument("--lab", required=True)
    parser.add_argument("--root", default="/autograder")
    args = parser.parse_args(argv)
    data = run_autograder(args.lab, Path(args.root))
    print(f"Score: {data.get('score')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
