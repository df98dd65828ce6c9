"""courses-api: MyLearning's course catalogue, in five releases.

Each release is a real one: its answers carry its version and differ as releases do.
1.0.0 lists courses; 1.1.0 filters by level and shows durations in the list; 1.2.0 adds
ratings; 2.0.0 adds instructors and a database connection pool too small for its load,
the flaw a canary deployment is meant to catch; 2.0.1 is 2.0.0 with the pool fixed.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from . import story
from .container import Container
from .service import LoadFlaw, Release, Service, run

_RELEASES = {
    "1.0.0": Release("courses-api", "1.0.0", needs_database=True),
    "1.1.0": Release("courses-api", "1.1.0", needs_database=True),
    "1.2.0": Release("courses-api", "1.2.0", needs_database=True),
    "2.0.0": Release("courses-api", "2.0.0", needs_database=True, flaw=LoadFlaw()),
    "2.0.1": Release("courses-api", "2.0.1", needs_database=True),
}


def _at_least(version: str, minimum: str) -> bool:
    return tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


def course_view(course: story.Course, version: str, detail: bool) -> dict[str, Any]:
    """A course as `version` shows it: each release adds what it added."""
    view: dict[str, Any] = {"id": course.id, "title": course.title, "level": course.level}
    if detail or _at_least(version, "1.1.0"):
        view["duration_minutes"] = course.duration_minutes
    if _at_least(version, "1.2.0"):
        view["rating"] = course.rating
    if _at_least(version, "2.0.0"):
        view["instructor"] = course.instructor
    return view


def _routes(service: Service) -> None:
    version = service.release.version

    async def list_courses(request: web.Request) -> web.Response:
        courses = list(story.COURSES)
        level = request.query.get("level")
        if level is not None and _at_least(version, "1.1.0"):
            if level not in story.LEVELS:
                return service.reply({"error": f"unknown level {level!r}", "levels": list(story.LEVELS)}, 400)
            courses = [c for c in courses if c.level == level]
        return service.reply({"platform": story.PLATFORM, "count": len(courses),
                              "courses": [course_view(c, version, detail=False) for c in courses]})

    async def get_course(request: web.Request) -> web.Response:
        course = story.BY_ID.get(request.match_info["course_id"])
        if course is None:
            return service.reply({"error": "course not found", "id": request.match_info["course_id"]}, 404)
        return service.reply({"course": course_view(course, version, detail=True)})

    service.app.router.add_get("/api/courses", list_courses)
    service.app.router.add_get("/api/courses/{course_id}", get_course)


def _serve(container: Container, tag: str) -> int:
    return run(container, _RELEASES[tag], _routes)


def v1_0_0(container: Container) -> int:
    return _serve(container, "1.0.0")


def v1_1_0(container: Container) -> int:
    return _serve(container, "1.1.0")


def v1_2_0(container: Container) -> int:
    return _serve(container, "1.2.0")


def v2_0_0(container: Container) -> int:
    return _serve(container, "2.0.0")


def v2_0_1(container: Container) -> int:
    return _serve(container, "2.0.1")
