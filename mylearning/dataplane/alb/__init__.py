"""Application Load Balancers in the data plane (issue 11).

Every ALB listener the control plane knows is served on a loopback address of its own, which
the edge maps its DNS name to (DESIGN.md, interface 6). The parts:

* ``rules``: which rule a request matches and what its action does (pure functions), with
  ``request`` (the request as rules see it) and ``stickiness`` (weighted forwarding,
  target selection, sticky cookies).
* ``config``: the load balancers, listeners, rules and target groups, read through ELBv2.
* ``checks``: each target group's health checks, reported back to ELB.
* ``balancer``: the listeners themselves, forwarding to healthy registered targets.
* ``metrics``: ``AWS/ApplicationELB`` metrics from what the listeners served.
"""
