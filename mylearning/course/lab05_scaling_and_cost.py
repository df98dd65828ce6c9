"""Lab 05, auto scaling and cost optimization: its declaration."""
from __future__ import annotations

from mylearning.course import LabInfo

ABOUT = LabInfo(
    "05", "Auto scaling and cost optimization",
    services=("application-autoscaling", "ec2", "ecs", "elbv2", "ssm", "sts"),
    concepts=("capacity", "cost", "migrate", "cost_explorer", "answers"))
