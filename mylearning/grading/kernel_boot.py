"""The first code of every learner kernel: confine, warm up, then become an IPython kernel.

The grader starts kernels with this module instead of `ipykernel_launcher`
(through a kernel spec of its own), so the sandbox is in force before the
kernel opens its sockets, and long before any cell of the submission runs. The
policy file named by `isolation.POLICY_VAR` was written by the grader; a kernel
whose confinement fails exits at once, and the grader reports that instead of
running the notebook unconfined.

The imports every lab needs (boto3, the course library, the check engine) and
the boto3 clients of the lab's services are loaded here, before the notebook's
first cell, binding no name in the notebook's namespace.
"""
from __future__ import annotations

import os
import sys


def _warm_up() -> None:
    import importlib
    for name in ("boto3", "botocore.session", "mylearning.backend", "mylearning.answers",
                 "mylearning.notebook", "mylearning.steps"):
        try:
            importlib.import_module(name)
        except Exception:
            pass
    services = [s for s in os.environ.pop("MYLEARNING_PREWARM_SERVICES", "").split(",") if s]
    try:
        from mylearning.backend import prewarm_clients
        prewarm_clients(services)
    except Exception:
        pass


def main() -> None:
    from mylearning.grading import isolation

    policy_path = os.environ.pop(isolation.POLICY_VAR, "")
    if policy_path:
        try:
            isolation.apply(isolation.Policy.read(policy_path))
        except BaseException as exc:  # never run a submission unconfined
            print(f"mylearning: the sandbox could not be applied: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)
            os._exit(70)
    _warm_up()
    from ipykernel.kernelapp import launch_new_instance
    sys.argv[0] = "ipykernel_launcher"
    if os.getppid() == 1:
        # In its PID namespace the kernel's parent is the namespace's init, not the
        # grader: ipykernel's parent poller would take that for the grader's death.
        # The namespace already dies with the grader (parent-death signals).
        sys.argv.append("--IPKernelApp.parent_handle=1")
    launch_new_instance()


if __name__ == "__main__":
    main()
