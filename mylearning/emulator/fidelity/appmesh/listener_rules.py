"""App Mesh listeners of virtual nodes and virtual gateways: the settings that must agree
with the listener's own port mapping, which moto 5.2 does not compare.

(One connection pool protocol, one certificate source... per listener is `one_of`; the
certificate, trust and validation a TLS block requires are checked by moto's own parser.)
"""
from __future__ import annotations

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.appmesh.access import SERVICE
from mylearning.emulator.fidelity.appmesh.errors import bad_request

LISTENERS = ("CreateVirtualNode", "UpdateVirtualNode", "CreateVirtualGateway",
             "UpdateVirtualGateway")


def _listeners(req: AwsRequest) -> list[dict]:
    listeners = (req.params.get("spec") or {}).get("listeners")
    return [item for item in listeners if isinstance(item, dict)] if isinstance(listeners, list) else []


@rule(SERVICE, *LISTENERS)
def connection_pool_matches_protocol(req: AwsRequest) -> None:
    """A listener's connection pool is for the protocol of its port mapping.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_VirtualNodeConnectionPool.html
    and .../API_VirtualGatewayConnectionPool.html ("Only one protocol is used at a time and
    should be the same protocol as the one chosen under port mapping") and
    https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_nodes.html ("The
    connectionPool and portMapping protocols must be the same").
    """
    for i, listener in enumerate(_listeners(req)):
        pool = listener.get("connectionPool")
        protocol = (listener.get("portMapping") or {}).get("protocol")
        if not isinstance(pool, dict) or not protocol:
            continue
        kinds = [k for k, v in pool.items() if v is not None]
        if len(kinds) == 1 and kinds[0] != protocol:
            raise bad_request(f"spec.listeners[{i}].connectionPool.{kinds[0]} doesn't match the "
                              f"listener's protocol {protocol}; the connection pool and the port "
                              "mapping must use the same protocol.")


@rule(SERVICE, *LISTENERS)
def health_check_port_is_listener_port(req: AwsRequest) -> None:
    """A listener's health check port, when given, is the listener's own port.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HealthCheckPolicy.html and
    .../API_VirtualGatewayHealthCheckPolicy.html (port: "This port must match the port
    defined in the PortMapping for the listener").
    """
    for i, listener in enumerate(_listeners(req)):
        port = (listener.get("healthCheck") or {}).get("port")
        mapped = (listener.get("portMapping") or {}).get("port")
        if port is not None and mapped is not None and port != mapped:
            raise bad_request(f"spec.listeners[{i}].healthCheck.port {port} must match the "
                              f"listener's port mapping ({mapped}).")
