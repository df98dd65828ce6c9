"""ECS's own traffic-shifting deployments (BLUE_GREEN, LINEAR, CANARY): stages, defaults, steps.

Facts without I/O, shared by the emulator's scheduler and the course:

* Lifecycle stages, in the order a deployment goes through them:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html
  (``lifecycleStage``: RECONCILE_SERVICE "only happens when you start a new service deployment
  with more than 1 service revision in an ACTIVE state", then PRE_SCALE_UP ... CLEAN_UP) and
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html.
* Where hooks may run (``DeploymentLifecycleHook.lifecycleStages``; SCALE_UP, BAKE_TIME and
  CLEAN_UP take none, PRE_PRODUCTION_TRAFFIC_SHIFT is a hook point and no stage of its own):
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html.
  A hook at PRODUCTION_TRAFFIC_SHIFT runs at every production traffic step:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html.
* Defaults: canaryPercent 5.0 and canaryBakeTimeInMinutes 10
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html),
  stepPercent 10.0 and stepBakeTimeInMinutes 6, which "is not applied after reaching 100 percent
  traffic" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html),
  hook timeout 1440 minutes with action ROLLBACK
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookTimeoutConfiguration.html).
"""
from __future__ import annotations

import math

#: Strategies whose production traffic ECS moves between two target groups.
TRAFFIC_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")

STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
          "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
          "BAKE_TIME", "CLEAN_UP")
HOOK_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
               "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
               "POST_PRODUCTION_TRAFFIC_SHIFT")

CANARY_PERCENT = 5.0
CANARY_BAKE_MINUTES = 10
STEP_PERCENT = 10.0
STEP_BAKE_MINUTES = 6
HOOK_TIMEOUT_MINUTES = 1440
HOOK_TIMEOUT_ACTION = "ROLLBACK"

#: ServiceDeployment.status values (API_ServiceDeployment.html): those still moving.
UNFINISHED = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")


def production_steps(config: dict) -> list[tuple[float, int]]:
    """(percent of production traffic on the new revision, bake minutes after it) per step.

    BLUE_GREEN moves everything at once; CANARY moves canaryPercent, bakes, then the rest;
    LINEAR moves stepPercent at a time with its bake between steps (none after 100%).
    """
    strategy = config.get("strategy") or "ROLLING"
    if strategy == "CANARY":
        canary = config.get("canaryConfiguration") or {}
        percent = float(canary.get("canaryPercent", CANARY_PERCENT))
        bake = int(canary.get("canaryBakeTimeInMinutes", CANARY_BAKE_MINUTES))
        return [(percent, bake), (100.0, 0)] if percent < 100 else [(100.0, 0)]
    if strategy == "LINEAR":
        linear = config.get("linearConfiguration") or {}
        step = float(linear.get("stepPercent", STEP_PERCENT))
        bake = int(linear.get("stepBakeTimeInMinutes", STEP_BAKE_MINUTES))
        count = math.ceil(round(100.0 / step, 6))
        percents = [min(100.0, round(step * n, 1)) for n in range(1, count + 1)]
        return [(p, bake if p < 100 else 0) for p in percents]
    return [(100.0, 0)]


def forward_weights(percent: float) -> tuple[int, int]:
    """(old, new) ALB forward weights for `percent` of traffic on the new target group.

    ALB weights are integers 0-999
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html):
    whole percents are written out of 100, tenths out of 1000.
    """
    tenths = round(percent * 10)
    if tenths <= 0:
        return 1, 0
    if tenths >= 1000:
        return 0, 1
    if tenths % 10 == 0:
        return 100 - tenths // 10, tenths // 10
    return 1000 - tenths, tenths
