"""courses-api: MyLearning's course catalogue, in five releases.

Each release is a real one: its answers carry its version and differ as releases do.
1.0.0 lists courses; 1.1.0 filters by level and shows durations in the list; 1.2.0 adds
ratings; 2.0.0 adds instructors and a database connection pool too small for its load,
the flaw a canary deployment is meant to catch; 2.0.1 is 2.0.0 with the pool fixed.

Every release serves a course's material (``/api/courses/{id}/material``) from the S3 bucket
named by ``COURSE_CONTENT_BUCKET`` (object ``courses/{id}.md``), read with the task role's
credentials (`aws`): what the task role lacks, the learner sees as AccessDenied in the app's log
and in the answer. Without the variable the route answers 404 and calls nothing.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from . import story
from .aws import NoCredentials, Sdk, error_code
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

    aws = Sdk(service.container)

    async def get_material(request: web.Request) -> web.Response:
        course_id = request.match_info["course_id"]
        if course_id not in story.BY_ID:
            return service.reply({"error": "course not found", "id": course_id}, 404)
        bucket = service.container.env.get("COURSE_CONTENT_BUCKET")
        if not bucket:
            return service.reply({"error": "course material is not configured (COURSE_CONTENT_BUCKET)"}, 404)
        key = f"courses/{course_id}.md"
        try:
            answer = await aws.call("s3", "get_object", Bucket=bucket, Key=key)
        except NoCredentials as error:
            service.container.log(str(error), "ERROR", bucket=bucket, key=key)
            return service.reply({"error": "NoCredentials", "message": str(error)}, 500)
        except Exception as error:  # botocore's ClientError: AWS refused the call
            code = error_code(error)
            if code in ("NoSuchKey", "404"):
                return service.reply({"error": "no material for this course yet", "id": course_id}, 404)
            service.container.log(f"s3:GetObject s3://{bucket}/{key} failed: {error}", "ERROR",
                                  error_code=code, bucket=bucket, key=key)
            return service.reply({"error": code, "message": str(error)}, 500)
        return service.reply({"course": course_id, "material": answer["Body"].decode("utf-8", "replace"),
                              "source": f"s3://{bucket}/{key}"})

    service.app.router.add_get("/api/courses", list_courses)
    service.app.router.add_get("/api/courses/{course_id}/material", get_material)
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
