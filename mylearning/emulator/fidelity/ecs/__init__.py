"""Amazon ECS: the checks AWS makes that moto skips, and services that deploy like ECS.

Three parts, each kept small enough to be offered upstream to moto on its own:

* **Rules** (``@rule``): requests AWS rejects, answered with AWS's error code: ``rules``
  (task definitions, clusters, services, tasks), ``deployment_rules`` (deployment controller,
  deployment configuration and strategies, scheduling strategy, placement) and
  ``service_connect`` (namespace, named ports, discovery names and client aliases).
* **moto fixes** (``_fix_*``): crashes and dropped parameters in moto 5.2.x,
  patched once on the first ECS call. Where it can, a fix lets moto try first
  and steps in only where moto fails or leaves a value unset; the others are
  idempotent (they change nothing where moto already behaves), so a moto that
  closes a gap upstream is left alone.
* **The scheduler** (``@after``): what the ECS service scheduler does after
  CreateService/UpdateService returns -- start tasks, drain the old deployment,
  log events, reach a steady state. It runs at once, so a service is stable as
  soon as the call returned and the ``services_stable`` waiter succeeds on its
  first poll; the call's own answer still shows the rollout IN_PROGRESS, as AWS's does.
* **Placement** (``placement``): tasks spread across the zones of their subnets, with
  addresses from those subnets, on capacity providers split by base and weight.
* **Registration** (``registration``): the scheduler registers a service's tasks with its
  target groups and Cloud Map services when they start, and removes them when they stop.
* **The agent API** (``agent_api``, ``acs``): DiscoverPollEndpoint attaches the data
  plane's task agent; its SubmitTaskStateChange / SubmitContainerStateChange reports and
  health telemetry move tasks on, and the scheduler then rolls out on real health
  (``rollout``: rolling updates, replacements, circuit breaker, back-off).
* **Traffic-shifting deployments** (``blue_green``): BLUE_GREEN, LINEAR and CANARY through
  their lifecycle stages, moving the ALB listener rules' weights (``listener_rules``), with
  bake times, PAUSE hooks and alarm rollback; every deployment is a service deployment with
  its service revisions (``service_deployments``), served by ``deployment_operations``
  (ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
  StopServiceDeployment, ContinueServiceDeployment).
* **Revisions** (``revisions``): a family name means its latest ACTIVE revision;
  ListTaskDefinitions honours ``sort``.

moto is imported lazily: importing this package (e.g. for the fidelity table)
stays light.
"""
from __future__ import annotations

# Order matters: validation rules first, then the rule that applies the moto fixes
# (registered for every ECS operation), then the scheduler's after-hooks.
from mylearning.emulator.fidelity.ecs import rules as _rules  # noqa: F401
from mylearning.emulator.fidelity.ecs import deployment_rules as _deployment_rules  # noqa: F401
from mylearning.emulator.fidelity.ecs import service_connect as _service_connect  # noqa: F401
from mylearning.emulator.fidelity.ecs import fixes as _fixes  # noqa: F401
from mylearning.emulator.fidelity.ecs import scheduler as _scheduler  # noqa: F401
from mylearning.emulator.fidelity.ecs import operations as _operations  # noqa: F401
from mylearning.emulator.fidelity.ecs import deployment_operations as _deployment_operations  # noqa: F401
from mylearning.emulator.fidelity.ecs import agent_api as _agent_api  # noqa: F401
from mylearning.emulator.fidelity.ecs import elb_health as _elb_health  # noqa: F401
from mylearning.emulator.fidelity.ecs.rules import FARGATE_SIZES, cpu_units, memory_mib
from mylearning.emulator.fidelity.ecs.scheduler import keep_create_parameters

__all__ = ["FARGATE_SIZES", "cpu_units", "memory_mib", "keep_create_parameters"]
