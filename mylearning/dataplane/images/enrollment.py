"""enrollment: learners sign up for courses; it asks courses-api whether a course exists.

The call to its backend is the point: it goes by name (COURSES_API_URL, a Cloud Map /
Service Connect / App Mesh name in the labs) through the task's network, and when that
backend is down, slow or failing the answer says so (503 unreachable, 502 bad answer),
which is what a learner reads in the logs while debugging service discovery or a mesh.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiohttp import web

from .container import Container
from .service import Release, Service, run

_RELEASES = {
    "1.0.0": Release("enrollment", "1.0.0", needs_database=True),
    "1.1.0": Release("enrollment", "1.1.0", needs_database=True),
}
BACKEND_TIMEOUT_SECONDS = 2.0


async def _lookup_course(service: Service, http: Any, course_id: str) -> tuple[dict[str, Any] | None, web.Response | None]:
    """The course from courses-api, or the error answer to give instead."""
    base = service.container.env.get("COURSES_API_URL", "http://courses-api.mylearning.local:8080").rstrip("/")
    url = f"{base}/api/courses/{course_id}"
    try:
        async with http.get(url) as answer:
            if answer.status == 404:
                return None, service.reply({"error": "unknown course", "course": course_id}, 422)
            if answer.status != 200:
                service.container.log("courses-api failed", "ERROR", url=url, status=answer.status)
                return None, service.reply({"error": "courses-api failed", "backend": base,
                                            "reason": f"courses-api answered {answer.status}"}, 502)
            return (await answer.json()).get("course") or {}, None
    except asyncio.TimeoutError:
        reason = f"no answer within {BACKEND_TIMEOUT_SECONDS:g} s"
    except aiohttp.ClientError as exc:
        reason = str(exc) or type(exc).__name__
    service.container.log("courses-api unreachable", "ERROR", url=url, reason=reason)
    return None, service.reply({"error": "courses-api unavailable", "backend": base, "reason": reason}, 503)


def _routes(service: Service) -> None:
    version = service.release.version
    enrollments: list[dict[str, Any]] = []
    clients: dict[str, Any] = {}

    async def open_client(app: web.Application) -> None:
        clients["http"] = service.http(timeout=BACKEND_TIMEOUT_SECONDS)

    async def close_client(app: web.Application) -> None:
        await clients["http"].close()

    async def enroll(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("learner") or not body.get("course"):
            return service.reply({"error": "send JSON {\"learner\": ..., \"course\": ...}"}, 400)
        learner, course_id = str(body["learner"]), str(body["course"])
        if version != "1.0.0" and any(e["learner"] == learner and e["course"] == course_id for e in enrollments):
            return service.reply({"error": "already enrolled", "learner": learner, "course": course_id}, 409)
        course, problem = await _lookup_course(service, clients["http"], course_id)
        if problem is not None:
            return problem
        record: dict[str, Any] = {"id": len(enrollments) + 1, "learner": learner, "course": course_id}
        if version != "1.0.0":
            record["course_title"] = course.get("title") if course else None
            record["enrolled_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        enrollments.append(record)
        service.container.log("enrolled", "INFO", learner=learner, course=course_id)
        return service.reply({"enrollment": record}, 201)

    async def list_enrollments(request: web.Request) -> web.Response:
        return service.reply({"count": len(enrollments), "enrollments": enrollments})

    service.app.on_startup.append(open_client)
    service.app.on_cleanup.append(close_client)
    service.app.router.add_post("/api/enroll", enroll)
    service.app.router.add_get("/api/enrollments", list_enrollments)


def v1_0_0(container: Container) -> int:
    return run(container, _RELEASES["1.0.0"], _routes)


def v1_1_0(container: Container) -> int:
    return run(container, _RELEASES["1.1.0"], _routes)
