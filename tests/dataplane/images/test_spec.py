"""ContainerSpec survives JSON, and the runtime composes env and argv as Docker does."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from mylearning.dataplane.images import catalogue, runtime
from mylearning.dataplane.images.container import Container


def _spec(**overrides: object) -> runtime.ContainerSpec:
    values: dict = dict(name="app", image="public.ecr.aws/mylearning/courses-api:1.1.0",
                        task_arn="arn:aws:ecs:eu-west-1:123456789012:task/labs/abc", task_id="abc",
                        address="127.23.4.7", ports=[8080], environment={"DB_USER": "u", "AWS_REGION": "eu-west-1"},
                        command=["serve"], entry_point=None, log_path="/tmp/x.log", root="/tmp/root",
                        mounts={"/scratch": "/tmp/scratch"}, readonly_root=True, user="1000", proxy="http://127.0.0.1:3128")
    values.update(overrides)
    return runtime.ContainerSpec(**values)


def test_round_trip_through_json() -> None:
    spec = _spec()
    again = runtime.ContainerSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec


def test_from_dict_refuses_unknown_fields() -> None:
    data = _spec().to_dict() | {"privileged": True}
    with pytest.raises(ValueError, match="privileged"):
        runtime.ContainerSpec.from_dict(data)


def test_environment_layers_defaults_then_image_env_then_task() -> None:
    image = catalogue.resolve("public.ecr.aws/mylearning/courses-api:1.1.0")
    assert image is not None
    env = runtime.container_environment(_spec(environment={"PORT": "9090", "AWS_REGION": "eu-west-1"}), image)
    assert env["PORT"] == "9090"  # the task definition overrides the image's ENV
    assert env["LOG_LEVEL"] == "INFO"  # the image's ENV stays where the task sets nothing
    assert env["HOSTNAME"] == "ip-127-23-4-7.eu-west-1.compute.internal"
    assert env["AWS_EXECUTION_ENV"] == "AWS_ECS_FARGATE"
    assert "PATH" in env
    assert runtime.hostname("10.0.1.5", "us-east-1") == "ip-10-0-1-5.ec2.internal"


def test_argv_follows_docker_entrypoint_and_cmd_rules() -> None:
    busybox = catalogue.resolve("public.ecr.aws/docker/library/busybox:1.36")
    assert busybox is not None
    assert runtime.argv(_spec(command=None, entry_point=None), busybox) == ["sh"]
    assert runtime.argv(_spec(command=["sh", "-c", "echo hi"], entry_point=None), busybox) == ["sh", "-c", "echo hi"]
    # overriding the entry point drops the image's CMD
    assert runtime.argv(_spec(command=None, entry_point=["echo"]), busybox) == ["echo"]
    assert runtime.argv(_spec(command=["hi"], entry_point=["echo"]), busybox) == ["echo", "hi"]


def _container(tmp_path: Path, readonly: bool, mounts: dict[str, str] | None = None) -> Container:
    return Container(name="w", address="127.23.4.7", ports=[], env={}, root=str(tmp_path / "root"),
                     mounts=mounts or {}, readonly_root=readonly, proxy="http://127.0.0.1:3128")


def test_write_file_honours_readonly_root_and_mounts(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    container = _container(tmp_path, readonly=True, mounts={"/scratch": str(scratch)})
    with pytest.raises(OSError) as refused:
        container.write_file("/tmp/out.txt", b"x")
    assert refused.value.errno == errno.EROFS and "Read-only file system" in str(refused.value)
    with pytest.raises(OSError):  # '..' cannot climb out of a mount onto the root
        container.write_file("/scratch/../etc/passwd", b"x")
    written = container.write_file("/scratch/jobs/a.mp4", b"data")
    assert Path(written) == scratch / "jobs" / "a.mp4" and Path(written).read_bytes() == b"data"
    writable = _container(tmp_path, readonly=False)
    assert Path(writable.write_file("tmp/out.txt", "hi")).read_text() == "hi"
    assert Path(writable.host_path("/tmp/out.txt")) == tmp_path / "root" / "tmp" / "out.txt"


def test_url_maps_localhost_to_the_task_address(tmp_path: Path) -> None:
    container = _container(tmp_path, readonly=False)
    assert container.url("http://localhost:8080/health") == "http://127.23.4.7:8080/health"
    assert container.url("http://127.0.0.1/x?y=1") == "http://127.23.4.7/x?y=1"
    assert container.url("http://courses-api.mylearning.local:8080/api") == "http://courses-api.mylearning.local:8080/api"
    assert container.is_local("http://127.23.4.7:9901/") and not container.is_local("http://10.0.0.8/")
