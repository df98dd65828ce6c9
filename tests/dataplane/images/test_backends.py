"""enrollment and web reach courses-api by URL, directly or through an HTTP proxy."""
from __future__ import annotations

import asyncio
import threading
from typing import Callable, Iterator

import pytest
from aiohttp import ClientSession, web

from .conftest import DB_SECRETS, Running, free_address

Launch = Callable[..., Running]
API = "public.ecr.aws/mylearning/courses-api:1.2.0"


def test_enrollment_validates_the_course_with_courses_api(launch: Launch) -> None:
    api = launch(API, DB_SECRETS)
    enrollment = launch("public.ecr.aws/mylearning/enrollment:1.1.0", {**DB_SECRETS, "COURSES_API_URL": api.url})
    status, created = enrollment.json("/api/enroll", "POST", {"learner": "maria", "course": "ecs-101"})
    assert status == 201 and created["version"] == "1.1.0"
    assert created["enrollment"]["course_title"] == "Amazon ECS fundamentals"
    assert enrollment.json("/api/enroll", "POST", {"learner": "maria", "course": "ecs-101"})[0] == 409
    status, unknown = enrollment.json("/api/enroll", "POST", {"learner": "maria", "course": "cobol-999"})
    assert status == 422 and unknown["error"] == "unknown course"
    assert enrollment.json("/api/enroll", "POST", {"learner": "maria"})[0] == 400
    status, listing = enrollment.json("/api/enrollments")
    assert status == 200 and listing["count"] == 1
    # the backend call is in courses-api's own request log
    assert any(line.get("path") == "/api/courses/ecs-101" for line in api.logs())


def test_enrollment_says_why_its_backend_failed(launch: Launch) -> None:
    address, port = free_address()  # nothing listens there
    enrollment = launch("public.ecr.aws/mylearning/enrollment:1.0.0",
                        {**DB_SECRETS, "COURSES_API_URL": f"http://{address}:{port}"})
    status, answer = enrollment.json("/api/enroll", "POST", {"learner": "li", "course": "ecs-101"})
    assert status == 503 and answer["error"] == "courses-api unavailable" and answer["reason"]
    failing = launch(API, {**DB_SECRETS, "ERROR_RATE": "1"})
    enrollment2 = launch("public.ecr.aws/mylearning/enrollment:1.0.0", {**DB_SECRETS, "COURSES_API_URL": failing.url})
    status, answer = enrollment2.json("/api/enroll", "POST", {"learner": "li", "course": "ecs-101"})
    assert status == 502 and answer["reason"] == "courses-api answered 500"
    assert any(line["message"] == "courses-api failed" for line in enrollment2.logs())


def test_enrollment_needs_its_secrets(launch: Launch) -> None:
    enrollment = launch("public.ecr.aws/mylearning/enrollment:1.1.0", {}, ready=False)
    assert enrollment.wait_exit() == 1
    assert "DB_USER, DB_PASSWORD not set" in enrollment.log_text()


class TinyProxy:
    """A forward HTTP proxy standing in for the data plane's edge: it resolves one name."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names, self.seen = names, []
        self.address, self.port = free_address()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    async def _forward(self, request: web.Request) -> web.Response:
        url = request.url  # a proxied request carries the absolute URL in its request line
        self.seen.append(str(url))
        target = url.with_host(self.names.get(url.host, url.host))
        async with ClientSession() as session:
            async with session.request(request.method, target, data=await request.read()) as answer:
                return web.Response(status=answer.status, body=await answer.read(),
                                    content_type=answer.content_type)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, self.address, self.port).start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> "TinyProxy":
        self.thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def proxy_for(launch: Launch) -> Iterator[Callable[[dict[str, str]], TinyProxy]]:
    proxies: list[TinyProxy] = []

    def start(names: dict[str, str]) -> TinyProxy:
        proxies.append(TinyProxy(names).__enter__())
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.__exit__()


def test_backends_by_name_go_through_the_proxy(launch: Launch, proxy_for: Callable[..., TinyProxy]) -> None:
    api = launch(API, DB_SECRETS)
    edge = proxy_for({"courses-api.mylearning.local": api.spec.address})
    enrollment = launch("public.ecr.aws/mylearning/enrollment:1.1.0",
                        {**DB_SECRETS, "COURSES_API_URL": f"http://courses-api.mylearning.local:{api.port}"},
                        proxy=f"http://{edge.address}:{edge.port}")
    status, created = enrollment.json("/api/enroll", "POST", {"learner": "ada", "course": "mtls-302"})
    assert status == 201, created
    assert edge.seen == [f"http://courses-api.mylearning.local:{api.port}/api/courses/mtls-302"]


def test_web_front_page_lists_courses_and_degrades_without_enrollment(launch: Launch) -> None:
    api = launch(API, DB_SECRETS)
    nowhere = "http://%s:%d" % free_address()
    page = launch("public.ecr.aws/mylearning/web:1.0.0", {"COURSES_API_URL": api.url, "ENROLLMENT_URL": nowhere})
    status, headers, body = page.request("/")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Amazon ECS fundamentals" in html and "courses-api 1.2.0: 12 courses" in html
    assert "enrollments unavailable" in html
    broken = launch("public.ecr.aws/mylearning/web:1.0.0", {"COURSES_API_URL": nowhere, "ENROLLMENT_URL": nowhere})
    status, _, body = broken.request("/")
    assert status == 502 and "Courses are unavailable" in body.decode()


def test_web_counts_enrollments(launch: Launch) -> None:
    api = launch(API, DB_SECRETS)
    enrollment = launch("public.ecr.aws/mylearning/enrollment:1.1.0", {**DB_SECRETS, "COURSES_API_URL": api.url})
    enrollment.json("/api/enroll", "POST", {"learner": "sam", "course": "canary-303"})
    page = launch("public.ecr.aws/mylearning/web:1.0.0", {"COURSES_API_URL": api.url, "ENROLLMENT_URL": enrollment.url})
    assert "1 enrollments" in page.request("/")[2].decode()


def test_localhost_is_the_task_itself_and_skips_the_proxy(launch: Launch, proxy_for: Callable[..., TinyProxy]) -> None:
    """Containers of one awsvpc task share an address: localhost reaches the sibling directly."""
    api = launch(API, DB_SECRETS)
    edge = proxy_for({})
    address, port = api.spec.address, free_address()[1]
    enrollment = launch("public.ecr.aws/mylearning/enrollment:1.1.0",
                        {**DB_SECRETS, "PORT": str(port), "COURSES_API_URL": f"http://localhost:{api.port}"},
                        address=address, proxy=f"http://{edge.address}:{edge.port}", ready=False)
    enrollment.port = port
    enrollment.wait_ready()
    assert enrollment.json("/api/enroll", "POST", {"learner": "kim", "course": "ecs-101"})[0] == 201
    assert edge.seen == []
