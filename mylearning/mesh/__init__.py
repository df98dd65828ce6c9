"""AWS App Mesh for MyLearning: build a mesh, read it back as tables, draw it, tear it down.

Labs 06 (App Mesh) and 07 (mutual TLS) first write each resource as the full JSON the App
Mesh API takes, so the learner sees every field; then they build it with these helpers.

* **Specs** (`specs`): ``mesh_spec``, ``virtual_node_spec``, ``virtual_service_spec``,
  ``virtual_router_spec``, ``route_spec``, ``virtual_gateway_spec``, ``gateway_route_spec``
  return exactly the JSON the builders send, and the small ones the complex parts:
  ``listener_tls`` (a listener's certificate and mode; with ``trust``, mutual TLS),
  ``client_policy`` (how a proxy verifies, and authenticates to, its backends),
  ``retry_policy``, ``health_check``, ``cloud_map``, ``dns``, ``duration``,
  ``weighted_targets``. Every argument is checked before any call, against the rules the
  API reference states (each message cites its page), never more strictly than App Mesh.
* **Builders** (`builders`): ``ensure_mesh``, ``ensure_virtual_node``,
  ``ensure_virtual_service``, ``ensure_virtual_router``, ``ensure_route``,
  ``ensure_virtual_gateway``, ``ensure_gateway_route`` find before they create, tag what
  they create with the course tags and return the API's resource dict; ``set_weights``
  (the canary's knob) and ``set_egress_filter`` change what exists.
* **The view** (`view`): ``describe(session, mesh)`` reads the whole mesh through the API
  into a `MeshView` that prints as tables (and as HTML in a notebook); ``mermaid(view)`` is
  its Mermaid flowchart and ``diagram(view)`` shows it in JupyterLab (`drawing`).
* **Teardown** (`deletion`): ``delete_mesh_plan(session, mesh)`` lists the course's
  resources of a mesh in an order App Mesh deletes them in, as a `removals.Plan`.

Names: the mesh carries the learner's prefix (`mesh_name`); what is inside a mesh is scoped
by it, so nodes and routers have plain names (``courses-api-v1``). A virtual service is named
as the applications call it, its name in the learner's Cloud Map namespace
(`virtual_service_name`): "You can choose any name, but the service discovery name of the
real service that you're targeting ... is recommended"
(https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_services.html).

App Mesh reached end of support on 2026-09-30; these helpers run against the embedded AWS.
"""
from __future__ import annotations

from mylearning.mesh.builders import (NotCourseResource, ensure_gateway_route, ensure_mesh, ensure_node_like,
                                      ensure_route, ensure_virtual_gateway, ensure_virtual_node, ensure_virtual_router,
                                      ensure_virtual_service, mesh_name, set_egress_filter, set_weights,
                                      virtual_service_name)
from mylearning.mesh.deletion import delete_mesh_plan
from mylearning.mesh.drawing import diagram, mermaid
from mylearning.mesh.specs import (ACCESS_LOG, MeshSpecError, client_policy, cloud_map, dns, duration,
                                   gateway_route_spec, health_check, listener_tls, mesh_spec, retry_policy,
                                   route_spec, same_spec, virtual_gateway_spec, virtual_node_spec,
                                   virtual_router_spec, virtual_service_spec, weighted_targets)
from mylearning.mesh.view import (GatewayRouteView, GatewayView, ListenerView, MeshView, NodeView, RouterView,
                                  RouteView, ServiceView, TargetView, describe)

__all__ = ["ACCESS_LOG", "GatewayRouteView", "GatewayView", "ListenerView", "MeshSpecError", "MeshView",
           "NodeView", "NotCourseResource", "RouteView", "RouterView", "ServiceView", "TargetView",
           "client_policy", "cloud_map", "delete_mesh_plan", "describe", "diagram", "dns", "duration",
           "ensure_gateway_route", "ensure_mesh", "ensure_node_like", "ensure_route", "ensure_virtual_gateway", "ensure_virtual_node",
           "ensure_virtual_router", "ensure_virtual_service", "gateway_route_spec", "health_check",
           "listener_tls", "mermaid", "mesh_name", "mesh_spec", "retry_policy", "route_spec", "same_spec",
           "set_egress_filter", "set_weights", "virtual_gateway_spec", "virtual_node_spec", "virtual_router_spec",
           "virtual_service_name", "virtual_service_spec", "weighted_targets"]
