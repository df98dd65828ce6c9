"""The data plane process: the task agent, the edge proxy, the load balancers and telemetry,
in one event loop.

Start-up order matters to its emulator: the agent attaches first (DiscoverPollEndpoint),
the launcher is warmed and the edge proxy listens, and only then does the process print
its one ready line (JSON: proxy URL, address block, pid) that the emulator waits for
before it announces its own URL. SIGTERM (the emulator stopping, or dying: see
`mylearning.lifetime`) stops every container and exits.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import urllib.parse
from pathlib import Path

from mylearning.dataplane.addresses import AddressPool, claim_block
from mylearning.dataplane.agent import TaskAgent
from mylearning.dataplane.control import ControlPlane
from mylearning.dataplane.resolver import Resolver

#: Seconds between the agent's heartbeats (what `mylearning emulator status` shows).
HEARTBEAT = 2.0


async def _heartbeat(agent: TaskAgent, edge: object, balancers: object, management: object,
                     monitoring: object, task_aws: object) -> None:
    while True:
        with contextlib.suppress(Exception):
            status = {**agent.status(), "proxy": agent.proxy_url, "edge": edge.stats(),
                      "load_balancers": balancers.stats(), "mesh": management.stats(),
                      "monitoring": monitoring.stats(), "task_aws": task_aws.stats()}
            await asyncio.to_thread(agent.control.telemetry, {"agent": status})
        await asyncio.sleep(HEARTBEAT)


async def _main(endpoint: str) -> int:
    from mylearning.dataplane import containers
    from mylearning.dataplane.edge import EdgeProxy

    from concurrent.futures import ThreadPoolExecutor

    # boto3 blocks: its calls run in threads, as many at once as the emulator serves.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(16, thread_name_prefix="aws"))
    port = urllib.parse.urlsplit(endpoint).port or 80
    scratch = Path(tempfile.mkdtemp(prefix=f"mylearning-dataplane-{port}-"))
    control = ControlPlane(endpoint)
    await asyncio.to_thread(control.discover)
    await asyncio.to_thread(containers.warm)
    block, _lock = claim_block(preferred=port)  # held (fd open) for the process's life
    agent = TaskAgent(control, AddressPool(block), scratch)
    from mylearning.dataplane.alb.balancer import Balancers
    balancers = Balancers(agent)
    resolver = Resolver(agent, balancers)
    from mylearning.dataplane.security import SecurityGroups
    balancers.security = security = SecurityGroups(agent, balancers)
    from mylearning.dataplane.mesh_management import MeshManagement
    resolver.management = management = MeshManagement(agent, resolver)
    await management.start()
    from mylearning.dataplane.monitoring import Monitoring
    resolver.monitoring = monitoring = Monitoring(agent)
    await monitoring.start()
    from mylearning.dataplane.task_aws import TaskAws
    resolver.task_aws = agent.task_aws = task_aws = TaskAws(agent)
    await task_aws.start()
    edge = EdgeProxy(resolver.resolve, security.admit)
    agent.proxy_url = await edge.start("127.0.0.1", 0)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    info = {"proxy": agent.proxy_url, "addresses": agent.addresses.cidr,
            "pid": os.getpid()}
    print(json.dumps(info), flush=True)
    with contextlib.suppress(OSError):  # nothing more goes to the emulator's pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    from mylearning.dataplane.telemetry import Telemetry
    workers = [asyncio.create_task(agent.watch()), asyncio.create_task(agent.send_health()),
               asyncio.create_task(Telemetry(agent).run()),
               asyncio.create_task(_heartbeat(agent, edge, balancers, management, monitoring, task_aws)),
               asyncio.create_task(balancers.watch()), asyncio.create_task(balancers.publish())]
    try:
        await stopping.wait()
    finally:
        await agent.stop_all()
        for worker in workers:
            worker.cancel()
        with contextlib.suppress(Exception):
            await edge.close()
        with contextlib.suppress(Exception):
            await balancers.close()
        with contextlib.suppress(Exception):
            await management.close()
        with contextlib.suppress(Exception):
            await monitoring.close()
        with contextlib.suppress(Exception):
            await task_aws.close()
        shutil.rmtree(scratch, ignore_errors=True)
        # Every container is stopped; do not wait for the ACS poll's thread (up to 30 s).
        sys.stderr.flush()
        os._exit(0)


def run(endpoint: str) -> int:
    import faulthandler
    # `kill -USR1 <pid>` prints every thread's stack to the emulator's log: what a stuck
    # data plane is waiting for.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # The emulator and the tasks are on loopback: no proxy from the environment applies.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    try:
        return asyncio.run(_main(endpoint))
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        print(f"mylearning dataplane: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
