"""The fidelity tests' shared fixture: boto3 clients on the test emulator."""
from __future__ import annotations

import pytest

from mylearning.emulator.fidelity.cases import Env


@pytest.fixture(scope="module")
def env(emulator) -> Env:
    return Env(emulator.url)
