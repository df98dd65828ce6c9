"""moto 5.2's App Mesh, patched on the first App Mesh call in the emulator process only.

Per-resource uids and timestamps, epoch timestamps, mesh ARN and owner
(`_fix_metadata`), and AWS's error codes (`_fix_error_codes`); each checks first
whether moto still needs it.
"""
from __future__ import annotations

import uuid
from typing import Any

from mylearning.emulator.fidelity.core import moto_fixes
from mylearning.emulator.fidelity.appmesh.access import SERVICE, _account
from mylearning.emulator.fidelity.appmesh.errors import _AWS_CODES

_MOTO_TIME_FORMAT = "%d/%m/%Y, %H:%M:%S"


def _epoch_stamp_class():
    from datetime import datetime

    class EpochStamp(datetime):
        """A time that moto's App Mesh serialiser writes as epoch seconds.

        moto formats times as "%d/%m/%Y, %H:%M:%S", which clients read
        month-first (day and month swap); AWS sends epoch seconds
        (ResourceMetadata: "createdAt": number), which is what we give.
        """

        def strftime(self, fmt: str) -> str:
            if fmt == _MOTO_TIME_FORMAT:
                return f"{self.timestamp():.3f}"
            return super().strftime(fmt)

    return EpochStamp


def _fix_metadata() -> None:
    """Every resource gets its own uid and its own creation time, a mesh ARN of
    the form ``arn:aws:appmesh:REGION:ACCOUNT:mesh/NAME`` and an account id as
    owner (API_ResourceMetadata.html).

    moto 5.2 evaluates the uid and the timestamps once, when its module is
    imported (dataclass defaults), so all resources share them.
    """
    import dataclasses
    from datetime import timezone

    from moto.appmesh.dataclasses import gateway_route, route, shared, virtual_gateway, virtual_node

    stamp = _epoch_stamp_class()
    # A plain default is evaluated once; an upstream fix would use a default_factory.
    defaults = {f.name: f.default for f in dataclasses.fields(shared.Metadata)}
    fresh_uid = defaults.get("uid", dataclasses.MISSING) is not dataclasses.MISSING
    fresh_time = defaults.get("created_at", dataclasses.MISSING) is not dataclasses.MISSING

    def now():
        return stamp.now(timezone.utc)

    def as_stamp(value):
        if isinstance(value, stamp) or not hasattr(value, "timestamp"):
            return value
        return stamp.fromtimestamp(value.timestamp(), timezone.utc)

    def wrap(cls) -> None:
        original = cls.__dict__.get("__init__")
        if original is None or getattr(original, "_mylearning", False):
            return

        def init(self, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if fresh_uid and "uid" not in kwargs:
                self.uid = str(uuid.uuid4())
            if fresh_time and "created_at" not in kwargs:
                self.created_at = self.last_updated_at = now()
            else:  # keep moto's times, but serialise them as AWS does
                self.created_at, self.last_updated_at = as_stamp(self.created_at), as_stamp(self.last_updated_at)
            parts = self.arn.split(":", 5)
            if len(parts) == 6 and "/" not in parts[5]:
                self.arn = ":".join(parts[:5] + [f"mesh/{parts[5]}"])
            account = parts[4] if len(parts) == 6 else _account()
            if not str(self.mesh_owner).isdigit():
                self.mesh_owner = account
            if not str(self.resource_owner).isdigit():
                self.resource_owner = account

        init._mylearning = True  # type: ignore[attr-defined]
        cls.__init__ = init

    for cls in (shared.Metadata, virtual_node.VirtualNodeMetadata, route.RouteMetadata,
                virtual_gateway.VirtualGatewayMetadata, gateway_route.GatewayRouteMetadata):
        wrap(cls)

    def update_timestamp(self) -> None:
        self.last_updated_at = now()

    shared.Metadata.update_timestamp = update_timestamp


def _fix_error_codes() -> None:
    """Answer with AWS's error codes (NotFoundException 404, ConflictException 409,
    BadRequestException 400), so ``client.exceptions.NotFoundException`` catches them.
    """
    from moto.appmesh import exceptions
    from moto.core.exceptions import JsonRESTError

    if getattr(exceptions.MeshError.__init__, "_mylearning", False):
        return

    def init(self, error_type: str, message: str, *args: Any, **kwargs: Any) -> None:
        code, status = _AWS_CODES.get(error_type, (error_type, None))
        JsonRESTError.__init__(self, code, message, *args, **kwargs)
        if status:
            self.code = status

    init._mylearning = True  # type: ignore[attr-defined]
    exceptions.MeshError.__init__ = init


moto_fixes(SERVICE, _fix_metadata, _fix_error_codes)
