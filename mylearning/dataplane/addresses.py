"""Loopback addresses standing for task ENIs' private IPs.

Linux routes all of 127.0.0.0/8 to the loopback interface, so every task can have an
address of its own and its containers can listen on the task definition's ports, as in
awsvpc mode where each task has its own ENI
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html).
Several emulators may run on one machine (tests, grading workers), each with a data
plane: each takes the block 127.H.L.0/24 where H.L are the two bytes of its emulator's
port, which no other running emulator can share.
"""
from __future__ import annotations


class AddressPool:
    def __init__(self, emulator_port: int) -> None:
        high, low = (emulator_port >> 8) & 0xFF, emulator_port & 0xFF
        if high == 0:  # 127.0.x.y would include 127.0.0.1
            high = 255
        self.prefix = f"127.{high}.{low}."
        self._free = list(range(2, 255))
        self._used: dict[str, str] = {}  # loopback -> owner (task ARN)

    def take(self, owner: str) -> str:
        if not self._free:
            raise RuntimeError("no free loopback address for another task (254 run at once)")
        address = self.prefix + str(self._free.pop(0))
        self._used[address] = owner
        return address

    def give_back(self, address: str) -> None:
        if self._used.pop(address, None) is not None:
            self._free.append(int(address.rsplit(".", 1)[1]))

    def owns(self, address: str) -> bool:
        return address in self._used
