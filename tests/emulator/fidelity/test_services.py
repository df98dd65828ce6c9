"""The fidelity layer finds its service modules itself, and each one earns its place.

A service is every module or package directly in mylearning/emulator/fidelity/
other than the machinery (`core`, `validation`) and `cases`, named after its boto3 client
without hyphens.
"""
from __future__ import annotations

import sys
from pathlib import Path

from mylearning.emulator import fidelity
from mylearning.emulator.fidelity import core
from mylearning.emulator.fidelity.cases import all_cases

FIDELITY = Path(fidelity.__file__).parent


def _present() -> list[str]:
    """The service modules and packages in the folder, read from the file system."""
    names = [p.stem for p in FIDELITY.glob("*.py")] + [
        p.name for p in FIDELITY.iterdir() if (p / "__init__.py").is_file()]
    return sorted(n for n in names if not n.startswith("_") and n not in fidelity.NOT_SERVICES)


def test_discovery_finds_exactly_the_modules_present():
    import boto3

    present = _present()
    assert {"ecs", "appmesh", "applicationautoscaling", "acmpca"} <= set(present)
    assert list(fidelity.MODULES) == present
    assert {"core", "cases", "validation"} == set(fidelity.NOT_SERVICES)
    services = fidelity.services()
    assert sorted(s.replace("-", "") for s in services) == present
    assert {"application-autoscaling", "acm-pca"} <= set(services)
    assert set(services) <= set(boto3.session.Session().get_available_services())


def test_every_service_has_registered_rules_and_cases():
    registered = {service for service, _ in [*core._RULES, *core._HANDLERS, *core._AFTER]}
    cased = {case.service for case in all_cases()}
    for service in fidelity.services():
        assert service in registered, f"{service}: no rule, handler or after-hook is registered"
        assert service in cased, f"{service}: no case in the fidelity table (fidelity/cases/)"


def test_a_new_service_file_is_discovered_without_registration(tmp_path, monkeypatch):
    (tmp_path / "codestarnotifications.py").write_text('"""A service with no rules yet."""\n')
    name = f"{fidelity.__name__}.codestarnotifications"
    monkeypatch.setattr(fidelity, "__path__", [*fidelity.__path__, str(tmp_path)])
    try:
        found = fidelity._discover()
        assert "codestarnotifications" in found and name in sys.modules
        assert fidelity.boto3_name("codestarnotifications") == "codestar-notifications"
    finally:
        sys.modules.pop(name, None)
        if hasattr(fidelity, "codestarnotifications"):
            delattr(fidelity, "codestarnotifications")
