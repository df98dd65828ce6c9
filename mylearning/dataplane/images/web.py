"""web: MyLearning.com's front page, rendered from its two backends.

The page is where a learner sees the system work end to end: it lists the catalogue
from courses-api (no page without it: 502 with the reason) and the number of
enrollments from enrollment (shown as unavailable if that one fails, so one broken
backend degrades the page instead of taking it down).
"""
from __future__ import annotations

import asyncio
import html
from typing import Any

import aiohttp
from aiohttp import web

from .container import Container
from .service import Release, Service, run

RELEASE = Release("web", "1.0.0")
BACKEND_TIMEOUT_SECONDS = 2.0


async def _fetch(service: Service, http: Any, base: str, path: str) -> tuple[dict[str, Any] | None, str]:
    url = base.rstrip("/") + path
    try:
        async with http.get(url) as answer:
            if answer.status != 200:
                return None, f"{url} answered {answer.status}"
            return await answer.json(), ""
    except asyncio.TimeoutError:
        return None, f"{url}: no answer within {BACKEND_TIMEOUT_SECONDS:g} s"
    except (aiohttp.ClientError, ValueError) as exc:
        return None, f"{url}: {exc or type(exc).__name__}"


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>MyLearning.com</h1>{body}<footer>web {RELEASE.version}</footer></body></html>")


def _routes(service: Service) -> None:
    env = service.container.env
    clients: dict[str, Any] = {}

    async def open_client(app: web.Application) -> None:
        clients["http"] = service.http(timeout=BACKEND_TIMEOUT_SECONDS)

    async def close_client(app: web.Application) -> None:
        await clients["http"].close()

    async def front_page(request: web.Request) -> web.Response:
        courses_url = env.get("COURSES_API_URL", "http://courses-api.mylearning.local:8080")
        enrollment_url = env.get("ENROLLMENT_URL", "http://enrollment.mylearning.local:8080")
        (catalogue, problem), (enrolled, enrollment_problem) = await asyncio.gather(
            _fetch(service, clients["http"], courses_url, "/api/courses"),
            _fetch(service, clients["http"], enrollment_url, "/api/enrollments"))
        if catalogue is None:
            service.container.log("courses-api unavailable", "ERROR", reason=problem)
            return web.Response(status=502, content_type="text/html",
                                text=_page("MyLearning.com: unavailable",
                                           f"<p class=\"error\">Courses are unavailable: {html.escape(problem)}</p>"))
        if enrollment_problem:
            service.container.log("enrollment unavailable", "WARNING", reason=enrollment_problem)
        rows = "".join(
            f"<li data-course=\"{html.escape(c['id'])}\">{html.escape(c['title'])} "
            f"<em>{html.escape(c['level'])}</em></li>" for c in catalogue.get("courses", []))
        count = (f"{enrolled.get('count', 0)} enrollments" if enrolled is not None
                 else "enrollments unavailable")
        body = (f"<p>courses-api {html.escape(str(catalogue.get('version')))}: "
                f"{len(catalogue.get('courses', []))} courses, {count}</p><ul>{rows}</ul>")
        return web.Response(content_type="text/html", text=_page("MyLearning.com", body))

    service.app.on_startup.append(open_client)
    service.app.on_cleanup.append(close_client)
    service.app.router.add_get("/", front_page)


def v1_0_0(container: Container) -> int:
    return run(container, RELEASE, _routes)
