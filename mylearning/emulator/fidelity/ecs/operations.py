"""ECS operations moto 5.2.x lacks, answered through ones it has.

UpdateClusterSettings (which the console and many scripts use to turn on
Container Insights) is UpdateCluster restricted to `settings`: same request
members (`cluster`, `settings`) and the same answer (`{"cluster": ...}`).
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateClusterSettings.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateCluster.html
"""
from __future__ import annotations

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.ecs.access import SERVICE

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."


def _moto_has(operation: str) -> bool:
    from moto.ecs.responses import EC2ContainerServiceResponse
    return hasattr(EC2ContainerServiceResponse, operation)


@rule(SERVICE, "UpdateClusterSettings")
def update_cluster_settings_as_update_cluster(req: AwsRequest) -> None:
    if _moto_has("update_cluster_settings"):  # upstream moto implements it: step aside
        return
    req.environ["HTTP_X_AMZ_TARGET"] = TARGET_PREFIX + "UpdateCluster"
