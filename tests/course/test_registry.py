"""The lab registry holds every lab's declaration, and the declarations hold to the code.

These are the layout's rules (one key per lab, one way into the graders, moto only in
the control plane), checked on the tree as it is, so a new lab that breaks one fails here.
"""
from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from mylearning import course
from tests.nbrun import ROOT

LIBRARY = ROOT / "mylearning"
CLIENT = re.compile(r"""\.client\(\s*["']([a-z0-9-]+)["']""")
NUMBERS = course.numbers()


def _notebook_code(number: str) -> str:
    (path,) = (ROOT / "solutions").glob(f"{number}-*.ipynb")
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _sources(number: str) -> str:
    """The lab's notebook code, its grader and its library module."""
    return "\n".join([_notebook_code(number),
                      Path(course.grader_module(number).__file__).read_text(),
                      Path(course.module(number).__file__).read_text()])


def test_every_lab_has_its_files_under_one_key():
    assert NUMBERS == course.graded_numbers()
    for number in NUMBERS:
        about = course.about(number)
        assert about.number == number
        slug = Path(course.module(number).__file__).stem
        assert Path(course.grader_module(number).__file__).stem == slug
        assert list((ROOT / "solutions").glob(f"{number}-*.ipynb")), f"solutions/{number}-*.ipynb"
        assert list((ROOT / "labs").glob(f"{number}-*.ipynb")), f"labs/{number}-*.ipynb"
        assert course.grader(number).title == about.title


@pytest.mark.parametrize("number", NUMBERS)
def test_declared_services_cover_every_client_the_lab_creates(number):
    used = set(CLIENT.findall(_sources(number)))
    declared = set(course.about(number).services)
    assert used <= declared, f"lab {number} calls {sorted(used - declared)} without declaring them"
    # Recorded answers are SSM parameters, and every lab's teardown plan removes them.
    assert "ssm" in declared, "every lab's teardown reads its recorded answers from SSM"


@pytest.mark.parametrize("number", NUMBERS)
def test_declared_concepts_are_library_modules_the_lab_uses(number):
    text = _sources(number)
    for concept in course.about(number).concepts:
        importlib.import_module(f"mylearning.{concept}")
        assert re.search(rf"\b{concept}\b", text), f"lab {number} declares {concept} but never uses it"


def test_every_declared_service_has_fidelity_rules_and_cases():
    """Each service a lab declares is one the fidelity layer knows (tests/emulator/fidelity/test_services.py
    holds every service it knows to at least one rule and one case)."""
    from mylearning.emulator import fidelity

    missing = set(course.all_services()) - set(fidelity.services())
    assert not missing, f"the labs call {sorted(missing)}, which have no fidelity rules or cases"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _library_files() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_library_reaches_graders_only_through_the_registry():
    registry = LIBRARY / "course" / "__init__.py"
    for path in _library_files():
        graders = {m for m in _imports(path) if m == "graders" or m.startswith("graders.")}
        assert not graders, f"{path.relative_to(ROOT)} imports {sorted(graders)}"
        if path != registry:
            assert '"graders' not in path.read_text(), f"{path.relative_to(ROOT)} names graders"


def test_only_the_control_plane_imports_moto():
    emulator = LIBRARY / "emulator"
    paths = _library_files() + sorted((ROOT / "graders").glob("*.py"))
    for path in paths:
        if emulator in path.parents:
            continue
        moto = {m for m in _imports(path) if m == "moto" or m.startswith("moto.")}
        assert not moto, f"{path.relative_to(ROOT)} imports moto"
