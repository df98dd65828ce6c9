"""Elastic Load Balancing v2: checks AWS makes that moto skips, one module per part.

* ``load_balancers``: ALB subnets in two zones, forward weights 0-999, listener ports,
  rule priorities 1-50000, certificates for HTTPS/TLS listeners only.
* ``conditions``: listener rule conditions -- fields a rule may repeat, the per-rule quotas
  on condition values and wildcards, what each condition's values may contain.
* ``actions``: rule and default actions -- one routing action and last, forward target
  groups and stickiness, redirects.
* ``priorities``: SetRulePriorities leaves the default rule alone.
* ``health``: target health as the data plane's load balancers measure it, draining, and
  the change news they poll for (``/mylearning/elb``).

Shared by them: ``access`` (names, errors, the flat query form read back into objects,
moto's state). moto is imported lazily.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.elbv2 import load_balancers as _load_balancers  # noqa: F401
from mylearning.emulator.fidelity.elbv2 import conditions as _conditions  # noqa: F401
from mylearning.emulator.fidelity.elbv2 import actions as _actions  # noqa: F401
from mylearning.emulator.fidelity.elbv2 import priorities as _priorities  # noqa: F401
from mylearning.emulator.fidelity.elbv2 import health as _health  # noqa: F401
