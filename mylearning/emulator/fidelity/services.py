"""Imports every per-service rule module so their rules register."""
from mylearning.emulator.fidelity import appmesh as _appmesh  # noqa: F401,E402
from mylearning.emulator.fidelity import cloudwatch as _cloudwatch  # noqa: F401,E402
from mylearning.emulator.fidelity import iam as _iam  # noqa: F401,E402
from mylearning.emulator.fidelity import xray as _xray  # noqa: F401,E402
from mylearning.emulator.fidelity import acmpca as _acmpca  # noqa: F401,E402
