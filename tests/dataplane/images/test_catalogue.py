"""The catalogue resolves references as ECS reads an `image` field, and refuses the rest."""
from __future__ import annotations

import pytest

from mylearning.dataplane.images import catalogue
from mylearning.dataplane.images.catalogue import IMAGES, LATEST, pull_error, references, resolve

PRIVATE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize("reference, repository, tag", [
    ("public.ecr.aws/mylearning/courses-api:1.0.0", "mylearning/courses-api", "1.0.0"),
    ("public.ecr.aws/mylearning/courses-api:2.0.0", "mylearning/courses-api", "2.0.0"),
    ("public.ecr.aws/mylearning/courses-api", "mylearning/courses-api", "1.2.0"),  # no tag: latest
    ("public.ecr.aws/mylearning/courses-api:latest", "mylearning/courses-api", "1.2.0"),
    ("public.ecr.aws/mylearning/enrollment", "mylearning/enrollment", "1.1.0"),
    ("public.ecr.aws/mylearning/video-worker:1.0.0", "mylearning/video-worker", "1.0.0"),
    ("public.ecr.aws/mylearning/web:latest", "mylearning/web", "1.0.0"),
    (f"{PRIVATE}/mylearning/courses-api:1.1.0", "mylearning/courses-api", "1.1.0"),
    ("210987654321.dkr.ecr.us-gov-west-1.amazonaws.com/mylearning/web:1.0.0", "mylearning/web", "1.0.0"),
    ("public.ecr.aws/docker/library/busybox:1.36", "docker/library/busybox", "1.36"),
    ("public.ecr.aws/docker/library/busybox:latest", "docker/library/busybox", "1.36"),
    ("busybox", "docker/library/busybox", "1.36"),  # Docker Hub, where the ECR Public mirror comes from
    ("docker.io/library/busybox:1.36", "docker/library/busybox", "1.36"),
])
def test_accepted_references(reference: str, repository: str, tag: str) -> None:
    image = resolve(reference)
    assert image is not None, reference
    assert (image.repository, image.tag) == (repository, tag)


def test_digest_references_pin_one_image_and_win_over_a_tag() -> None:
    target = resolve("public.ecr.aws/mylearning/courses-api:1.1.0")
    assert target is not None
    assert resolve(f"public.ecr.aws/mylearning/courses-api@{target.digest}") == target
    assert resolve(f"{PRIVATE}/mylearning/courses-api@{target.digest}") == target
    assert resolve(f"public.ecr.aws/mylearning/courses-api:2.0.0@{target.digest}") == target
    # a digest of another repository's image is not in this one
    web = resolve("public.ecr.aws/mylearning/web:1.0.0")
    assert web is not None and resolve(f"public.ecr.aws/mylearning/courses-api@{web.digest}") is None
    assert resolve("public.ecr.aws/mylearning/courses-api@sha256:" + "0" * 64) is None


def test_digests_are_deterministic_and_distinct() -> None:
    digests = [image.digest for image in IMAGES]
    assert all(d.startswith("sha256:") and len(d) == 71 for d in digests)
    assert len(set(digests)) == len(digests)
    again = catalogue.Image("mylearning/web", "1.0.0", "x:y", "s")
    assert again.digest == resolve("public.ecr.aws/mylearning/web:1.0.0").digest  # type: ignore[union-attr]


@pytest.mark.parametrize("reference", [
    "public.ecr.aws/mylearning/courses-api:3.0.0",  # tag never published
    "public.ecr.aws/mylearning/courses-api:1.0",  # ECS does not round tags
    "public.ecr.aws/mylearning/catalogue:1.0.0",  # repository never published
    "public.ecr.aws/other/courses-api:1.0.0",
    "ghcr.io/mylearning/courses-api:1.0.0",  # a registry the course does not publish to
    "mylearning/courses-api:1.0.0",  # Docker Hub has no such repository
    "12345.dkr.ecr.eu-west-1.amazonaws.com/mylearning/web:1.0.0",  # not a 12-digit account
    "public.ecr.aws/mylearning/Courses-API:1.0.0",  # uppercase is not a valid reference
    "",
])
def test_unknown_references_do_not_resolve(reference: str) -> None:
    assert resolve(reference) is None


def test_pull_error_has_ecs_wording_and_the_canonical_reference() -> None:
    message = pull_error("public.ecr.aws/mylearning/courses-api:3.0.0")
    assert message == ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                       "resolve ref public.ecr.aws/mylearning/courses-api:3.0.0: "
                       "public.ecr.aws/mylearning/courses-api:3.0.0: not found")
    assert "public.ecr.aws/mylearning/catalogue:latest: not found" in pull_error("public.ecr.aws/mylearning/catalogue")
    assert "docker.io/library/nginx:latest" in pull_error("nginx")
    assert "invalid reference format" in pull_error("Not A Reference")


def test_references_list_every_published_tag_and_latest_and_all_resolve() -> None:
    published = references()
    for image in IMAGES:
        assert image.reference in published
    for repository in LATEST:
        assert any(r.endswith(f"{repository}:latest") for r in published)
    assert all(resolve(r) is not None for r in published)
    assert "public.ecr.aws/docker/library/busybox:1.36" in published


def test_latest_never_points_at_the_flawed_release() -> None:
    assert LATEST["mylearning/courses-api"] != "2.0.0"
    assert all((repo, tag) in {(i.repository, i.tag) for i in IMAGES} for repo, tag in LATEST.items())


def test_catalogue_rows_are_complete() -> None:
    for image in IMAGES:
        module, _, function = image.program.partition(":")
        assert module.startswith("mylearning.dataplane.images.") and function
        assert image.summary and "\n" not in image.summary
    services = {i.repository for i in IMAGES if i.ports}
    assert services == {"mylearning/courses-api", "mylearning/enrollment", "mylearning/web",
                        "appmesh/aws-appmesh-envoy"}
    envoy = resolve("840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1.29.6.0-prod")
    assert envoy is not None and envoy.reference == "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod"
    assert 9901 in envoy.ports
    worker = resolve("public.ecr.aws/mylearning/video-worker:1.0.0")
    assert worker is not None and worker.ports == () and worker.env["SCRATCH_DIR"] == "/scratch"


def test_catalogue_imports_no_program() -> None:
    """The emulator imports the catalogue; it must not pull in aiohttp or the programs."""
    import subprocess
    import sys
    code = ("import sys, mylearning.dataplane.images.catalogue as c; "
            "print(sorted(m for m in sys.modules if m.startswith(('aiohttp', 'mylearning.dataplane.images.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['mylearning.dataplane.images.catalogue']"


def test_private_reference_resolves_back() -> None:
    for image in IMAGES:
        assert resolve(catalogue.private_reference(image, "123456789012", "us-east-1")) == image


# ---------------------------------------------------------------- architectures

def _image(reference: str) -> catalogue.Image:
    image = resolve(reference)
    assert image is not None, reference
    return image


@pytest.mark.parametrize("reference, architectures", [
    ("public.ecr.aws/mylearning/courses-api:1.0.0", ("X86_64",)),
    ("public.ecr.aws/mylearning/courses-api:1.1.0", ("X86_64", "ARM64")),
    ("public.ecr.aws/mylearning/courses-api:1.2.0", ("X86_64", "ARM64")),
    ("public.ecr.aws/mylearning/courses-api:2.0.0", ("X86_64", "ARM64")),
    ("public.ecr.aws/mylearning/enrollment:1.0.0", ("X86_64", "ARM64")),
    ("public.ecr.aws/mylearning/enrollment:1.1.0", ("X86_64", "ARM64")),
    ("public.ecr.aws/mylearning/video-worker:1.0.0", ("X86_64",)),  # its encoder ships x86 builds only
    ("public.ecr.aws/mylearning/web:1.0.0", ("X86_64", "ARM64")),
    ("public.ecr.aws/docker/library/busybox:1.36", ("X86_64", "ARM64")),
])
def test_each_image_names_the_architectures_it_is_built_for(reference: str, architectures: tuple) -> None:
    image = _image(reference)
    assert sorted(image.architectures) == sorted(architectures)
    for architecture in catalogue.ARCHITECTURES:
        assert catalogue.runs_on(image, architecture) == (architecture in architectures)


def test_every_image_runs_on_the_default_architecture() -> None:
    # A task definition without runtimePlatform runs on X86_64, so every lab that never
    # mentions architectures keeps working.
    assert catalogue.DEFAULT_ARCHITECTURE == "X86_64"
    assert all(catalogue.runs_on(image, catalogue.DEFAULT_ARCHITECTURE) for image in IMAGES)
    assert {i.repository for i in IMAGES if not catalogue.runs_on(i, "ARM64")} == {
        "mylearning/courses-api", "mylearning/video-worker"}


def test_exec_format_error_names_the_program_the_kernel_refused() -> None:
    worker = _image("public.ecr.aws/mylearning/video-worker:1.0.0")
    assert catalogue.exec_format_error(worker, "ARM64") == "exec /usr/local/bin/video-worker: exec format error"
    old = _image("public.ecr.aws/mylearning/courses-api:1.0.0")
    assert catalogue.exec_format_error(old, "ARM64") == "exec /usr/local/bin/courses-api: exec format error"
    assert catalogue.EXEC_FORMAT_EXIT_CODE == 1  # AWS Knowledge Center: "an exit code 1"
    # Each program has its own executable path, as an image's ENTRYPOINT does.
    assert all(image.executable.startswith("/") for image in IMAGES)
    with pytest.raises(ValueError):
        catalogue.exec_format_error(worker, "X86_64")  # it runs there: no error to report
    with pytest.raises(ValueError):
        catalogue.exec_format_error(_image("public.ecr.aws/mylearning/web:1.0.0"), "ARM64")


def test_architecture_names_are_ecs_spellings() -> None:
    worker = _image("public.ecr.aws/mylearning/video-worker:1.0.0")
    for wrong in ("x86_64", "arm64", "amd64", "AMD64", ""):
        with pytest.raises(ValueError):
            catalogue.runs_on(worker, wrong)
    with pytest.raises(ValueError):
        catalogue.Image("mylearning/x", "1", "m:f", "s", architectures=("amd64",))
    with pytest.raises(ValueError):
        catalogue.Image("mylearning/x", "1", "m:f", "s", architectures=())
