"""Task addresses: each data plane's own loopback block, addresses handed out and given back."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mylearning.dataplane.addresses import FIRST_BLOCK, LAST_BLOCK, AddressPool, claim_block


def test_addresses_are_unique_skip_network_and_broadcast_and_come_back():
    pool = AddressPool(200)
    taken = [pool.take(f"task-{n}") for n in range(600)]
    assert len(set(taken)) == 600
    assert all(a.startswith("127.200.") for a in taken)
    assert not any(a.endswith((".0", ".255")) for a in taken)
    assert pool.owns(taken[7])
    pool.give_back(taken[7])
    assert not pool.owns(taken[7])
    assert pool.take("again") == taken[7]
    pool.give_back("127.200.99.99")  # never handed out: nothing happens
    assert pool.cidr == "127.200.0.0/16"


def test_blocks_outside_the_reserved_range_are_refused():
    with pytest.raises(ValueError):
        AddressPool(1)
    with pytest.raises(ValueError):
        AddressPool(LAST_BLOCK + 1)


def test_a_block_is_held_by_one_process_until_it_ends():
    block, fd = claim_block(preferred=5)
    try:
        assert FIRST_BLOCK <= block <= LAST_BLOCK
        code = ("import sys; sys.path.insert(0, %r); from mylearning.dataplane.addresses import claim_block; "
                "print(claim_block(preferred=5)[0])") % os.getcwd()
        other = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   check=True).stdout)
        assert other != block  # the held block is skipped, another one is claimed
    finally:
        os.close(fd)
    code = ("import sys; sys.path.insert(0, %r); from mylearning.dataplane.addresses import claim_block; "
            "print(claim_block(preferred=5)[0])") % os.getcwd()
    again = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert again == block  # released with its holder's descriptor


def test_a_stopped_task_leaves_the_route_of_the_task_that_has_its_private_ip_now(tmp_path):
    """ECS frees a stopped task's private IP, and a replacement may get it while the old task is
    still winding down: the old one's release must not take the new one's route with it."""
    from types import SimpleNamespace

    from mylearning.dataplane.task import TaskRunner

    agent = SimpleNamespace(routes={}, interceptions={}, addresses=AddressPool(201), scratch=tmp_path)
    definition = {"containerDefinitions": [{"name": "app", "image": "public.ecr.aws/mylearning/web:1.0.0"}]}

    def runner(n):
        task = {"taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/c/{n}", "clusterArn": "c",
                "attachments": [{"type": "ElasticNetworkInterface", "details": [
                    {"name": "privateIPv4Address", "value": "10.0.1.23"}]}]}
        found = TaskRunner(agent, "us-east-1", task, definition)
        found.address = agent.addresses.take(found.arn)
        agent.routes[found.private_ip] = found.address
        return found

    old = runner("old")
    new = runner("new")  # placed on the freed IP before the old task released it
    old._release()
    assert agent.routes == {"10.0.1.23": new.address}
    new._release()
    assert agent.routes == {} and not agent.addresses.owns(new.address)
