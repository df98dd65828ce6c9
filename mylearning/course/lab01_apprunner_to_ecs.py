"""Lab 01, from App Runner to ECS: its declaration."""
from __future__ import annotations

from mylearning.course import LabInfo

ABOUT = LabInfo(
    "01", "From App Runner to ECS",
    services=("application-autoscaling", "ec2", "ecs", "iam", "logs", "ssm", "sts"),
    concepts=("migrate", "cost", "lookup", "answers"))
