"""Application Load Balancers in the data plane (issue 11).

Every ALB listener the control plane knows is served on a loopback address of its own, which
the edge maps its DNS name to (DESIGN.md, interface 6). The parts:

* ``rules``: which rule a request matches and what its action does (pure functions).
* ``balancer``: the listeners themselves, forwarding to healthy registered targets.
* ``health``: each target group's health checks, reported back to ELB.
"""
