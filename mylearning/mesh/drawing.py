"""Drawing a mesh: a Mermaid flowchart of what `describe` read, for Markdown cells and
notebook output (JupyterLab 4 renders ```mermaid fenced blocks)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mylearning.mesh.view import MeshView


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def _edge(source: str, target: str, label: str | None = None, tls: str | None = None) -> str:
    """An edge; an encrypted one is drawn thick and says so."""
    words = " · ".join(w for w in (label, tls) if w)
    arrow = "==>" if tls in ("TLS", "mTLS") else "-->"
    return f"    {source} {arrow}|{_label(words)}| {target}" if words else f"    {source} {arrow} {target}"


def mermaid(view: MeshView) -> str:
    """The mesh as a Mermaid flowchart (``graph LR``): gateways -> virtual services (labelled
    with the gateway route's match) -> routers or provider nodes -> nodes (labelled with each
    route's share of the traffic), and nodes -> the virtual services they call. An edge into
    a node says whether its listener wants TLS or mutual TLS, an edge out of a node or a
    gateway whether its client policy encrypts; encrypted edges are drawn thick."""
    ids: dict[tuple[str, str], str] = {}
    lines = ["graph LR", f"    %% App Mesh {view.name} (egress {view.egress}), read through the App Mesh API"]

    def declare(kind: str, name: str, shape: str, text: str) -> None:
        ident = f"{kind}{sum(1 for k, _ in ids if k == kind)}"
        ids[(kind, name)] = ident
        lines.append(f"    {ident}{shape[0]}{_label(text)}{shape[1]}")

    for g in view.gateways:
        declare("gw", g.name, ("[/", "/]"), f"virtual gateway {g.name}<br/>" + ", ".join(x.text for x in g.listeners))
    for s in view.services:
        declare("vs", s.name, ("([", "])"), s.name)
    for r in view.routers:
        declare("vr", r.name, ("{{", "}}"), f"router {r.name}")
    for n in view.nodes:
        declare("vn", n.name, ("[", "]"), n.name + ("<br/>" + ", ".join(x.text for x in n.listeners)
                                                      if n.listeners else ""))
    nodes = {n.name: n for n in view.nodes}

    for g in view.gateways:
        for route in g.routes:
            if ("vs", route.service) in ids:
                lines.append(_edge(ids[("gw", g.name)], ids[("vs", route.service)], route.match, g.backend_tls))
    for s in view.services:
        if s.provider_kind == "virtual router" and ("vr", s.provider) in ids:
            lines.append(_edge(ids[("vs", s.name)], ids[("vr", s.provider)]))
        elif s.provider_kind == "virtual node" and ("vn", s.provider) in ids:
            lines.append(_edge(ids[("vs", s.name)], ids[("vn", s.provider)], None, nodes[s.provider].tls))
    for r in view.routers:
        for route in r.routes:
            for target in route.targets:
                if ("vn", target.node) not in ids:
                    continue
                share = f"{target.percent:g}%"
                label = f"{route.name} {share}" if len(r.routes) > 1 else share
                lines.append(_edge(ids[("vr", r.name)], ids[("vn", target.node)], label, nodes[target.node].tls))
    for n in view.nodes:
        for backend in n.backends:
            if ("vs", backend) in ids:
                lines.append(_edge(ids[("vn", n.name)], ids[("vs", backend)], None, n.backend_tls.get(backend)))
    lines += ["    classDef gateway fill:#fff3e0,stroke:#ef6c00",
              "    classDef service fill:#e3f2fd,stroke:#1565c0",
              "    classDef router fill:#f3e5f5,stroke:#6a1b9a",
              "    classDef node fill:#e8f5e9,stroke:#2e7d32"]
    for kind, css in (("gw", "gateway"), ("vs", "service"), ("vr", "router"), ("vn", "node")):
        members = [ident for (k, _), ident in ids.items() if k == kind]
        if members:
            lines.append(f"    class {','.join(members)} {css}")
    return "\n".join(lines)


def diagram(view: MeshView) -> Any:
    """The drawing for a notebook: an IPython Markdown object holding a fenced ```mermaid
    block, which JupyterLab 4 renders; the fenced text itself where IPython is missing."""
    text = f"```mermaid\n{mermaid(view)}\n```"
    try:
        from IPython.display import Markdown
    except ImportError:
        return text
    return Markdown(text)
