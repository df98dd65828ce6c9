"""The two-command set-up stays true: dependency lists agree, and the entry points exist."""
from __future__ import annotations

import re
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from tests.nbrun import ROOT


def _norm(req: str) -> str:
    return re.sub(r"\s+", "", req).lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_norm(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    pip_lines = []
    in_pip = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.strip() == "- pip:":
            in_pip = True
            continue
        if in_pip and line.strip().startswith("- "):
            pip_lines.append(line.strip()[2:])
    listed = {_norm(r) for r in pip_lines if r != "-e ."}
    assert listed == wanted, f"only in pyproject: {wanted - listed}; only in environment.yml: {listed - wanted}"
    assert "-e ." in pip_lines
    python_pin = re.search(r"python>=(\d+\.\d+)", (ROOT / "environment.yml").read_text()).group(1)
    assert project["requires-python"] == f">={python_pin}"


def test_moto_is_pinned_to_a_tested_minor_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    moto = [d for d in project["dependencies"] if d.startswith("moto")]
    assert moto and "<" in moto[0] and ">=" in moto[0]


def test_makefile_and_ci_use_the_two_commands():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "mylearning", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "emulator" in out.stdout and "build-labs" in out.stdout


def test_importing_the_package_is_light():
    code = ("import sys, time; t=time.perf_counter(); import mylearning; "
            "print(time.perf_counter()-t, 'boto3' in sys.modules, 'moto' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    assert out[1:] == ["False", "False"], "import mylearning must not pull in boto3 or moto"
