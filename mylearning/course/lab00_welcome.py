"""Lab 00, welcome to the course: its declaration."""
from __future__ import annotations

from mylearning.course import LabInfo

ABOUT = LabInfo(
    "00", "Welcome to the course",
    services=("ssm", "sts"),
    concepts=("answers",))
