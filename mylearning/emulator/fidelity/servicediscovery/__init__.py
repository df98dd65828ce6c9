"""AWS Cloud Map (servicediscovery): the checks AWS makes that moto 5.2 skips, and moto fixes.

Lab 04 puts the courses API behind a private DNS namespace (``mylearning.cloudmap``);
ECS registers each task's address in its Cloud Map service (in-process, see
``ecs.registration``), so these rules see the calls a learner makes.

Parts, each small enough to be offered upstream to moto on its own:

* **Rules** (``rules``): record type combinations, routing policy against record type,
  HealthCheckConfig against HealthCheckCustomConfig, CNAME and private namespaces,
  UpdateService limits, the attributes an instance needs for its service's records, and
  deletes of services and namespaces still in use.
* **moto fixes** (``fixes``): ListServices filters, a second private namespace in a VPC.

Shared by them: ``access`` (moto's namespaces and services by ID or ARN).
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.servicediscovery import rules as _rules  # noqa: F401
from mylearning.emulator.fidelity.servicediscovery import fixes as _fixes  # noqa: F401
