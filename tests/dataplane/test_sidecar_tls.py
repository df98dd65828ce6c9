"""Mesh TLS end to end: two meshed ECS services on a real emulator and data plane, TLS between their proxies.

enrollment calls courses-api through both proxies (as in test_sidecar.py), now encrypted:

* with ACM: courses-api's listener serves a private certificate that AWS Private CA issued
  through ACM, exported by the management service for the proxy; enrollment's client policy
  trusts that CA (https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html);
* with files and mutual TLS, as the App Mesh walkthrough does it (aws-app-mesh-examples,
  walkthroughs/howto-mutual-tls-file-provided): certificates made with ``mylearning.pki``,
  written into a volume the proxy mounts by an init container (the keys from Secrets Manager),
  a listener validation that asks for a client certificate
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/mutual-tls.html).

Each checks what the guide tells operators to read: the proxies' ``ssl.*`` statistics and the
caller's answer, then changes one thing (a SAN the client does not trust, no client
certificate, a re-issued certificate) and watches it take effect without a restart.
"""
from __future__ import annotations

import itertools
import json
import re

import pytest

from mylearning import pki
from tests.dataplane.test_sidecar import ENVOY, MESH, NAMESPACE, PROXY, _cloud_map, _service
from tests.dataplane.world import World, private_ip, wait_for

COURSES = f"courses-api.{NAMESPACE}"          # courses-api's Cloud Map name: service-name.namespace-name
BUSYBOX = "public.ecr.aws/docker/library/busybox:1.36"
LISTENER = "listener.0.0.0.0_15000"
EGRESS_CLUSTER = f"cluster.cds_egress_{MESH}_courses-api_http_8080"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def _role(world: World, name: str, actions: list[str], resources: list[str] | str = "*",
          execution: bool = False) -> str:
    arn = world.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if execution:
        world.iam.attach_role_policy(RoleName=name, PolicyArn=(
            "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"))
    world.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}))
    return arn


def _task(world: World, family: str, image: str, node_arn: str, role: str, *, env: dict | None = None,
          files: dict | None = None, keys: dict | None = None, execution_role: str | None = None) -> str:
    """An app and its proxy; with `files` (name -> PEM) and `keys` (name -> secret ARN), an init
    container first writes them into the volume the proxy mounts at /keys."""
    app = world.container("app", image, env=env)
    envoy = {"name": "envoy", "image": ENVOY, "essential": True, "user": "1337",
             "environment": [{"name": "APPMESH_RESOURCE_ARN", "value": node_arn}],
             "portMappings": [{"containerPort": 9901}],
             "healthCheck": {"command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | "
                                                      "grep -q LIVE"],
                             "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10}}
    app["dependsOn"] = [{"containerName": "envoy", "condition": "HEALTHY"}]
    containers, extra = [app, envoy], {}
    if files or keys:
        variables = {f"F{n}": (name, pem) for n, (name, pem) in enumerate((files or {}).items())}
        secrets = {f"K{n}": (name, arn) for n, (name, arn) in enumerate((keys or {}).items())}
        script = " && ".join(["mkdir -p /keys"] + [f'printf "%s\\n" "${var}" > /keys/{name}'
                                                    for var, (name, _) in {**variables, **secrets}.items()])
        init = world.container("certs", BUSYBOX, secrets=False, essential=False, command=["sh", "-c", script],
                               mountPoints=[{"sourceVolume": "keys", "containerPath": "/keys"}])
        init["environment"] = [{"name": var, "value": pem} for var, (_, pem) in variables.items()]
        init["secrets"] = [{"name": var, "valueFrom": arn} for var, (_, arn) in secrets.items()]
        envoy["dependsOn"] = [{"containerName": "certs", "condition": "SUCCESS"}]
        envoy["mountPoints"] = [{"sourceVolume": "keys", "containerPath": "/keys", "readOnly": True}]
        containers.insert(0, init)
        extra = {"volumes": [{"name": "keys"}]}
    return world.register(*containers, family=family, memory="1024", taskRoleArn=role, proxyConfiguration=PROXY,
                          role=execution_role or "default", **extra)


def _running(world: World, name: str) -> list[dict]:
    """The service's task once its app and proxy run (an init container has exited by then)."""
    seen: list = []

    def ready() -> list[dict] | None:
        tasks = world.service_tasks(name) or world.service_tasks(name, desired="STOPPED")
        seen[:] = [(t["lastStatus"], t.get("stoppedReason"), [(c["name"], c["lastStatus"], c.get("reason"),
                                                               c.get("exitCode")) for c in t["containers"]])
                   for t in tasks]
        up = [t for t in tasks if t["lastStatus"] == "RUNNING" and all(
            c["lastStatus"] == "RUNNING" for c in t["containers"] if c["name"] != "certs")]
        return up or None
    try:
        return wait_for(f"a running task of {name} with a healthy proxy", ready, timeout=60)
    except AssertionError as error:
        raise AssertionError(f"{error}; tasks: {seen}") from None


def _leaf_serial(world: World, ip: str) -> str | None:
    contexts = json.loads(world.get(f"http://{ip}:9901/certs")[1])["certificates"]
    return contexts[0]["cert_chain"][0]["serial_number"] if contexts and contexts[0]["cert_chain"] else None


def _node_spec(name: str, *, listener_tls: dict | None = None, backend_policy: dict | None = None) -> dict:
    listener: dict = {"portMapping": {"port": 8080, "protocol": "http"}}
    if listener_tls:
        listener["tls"] = listener_tls
    spec: dict = {"listeners": [listener],
                  "serviceDiscovery": {"awsCloudMap": {"namespaceName": NAMESPACE, "serviceName": name}}}
    if name == "enrollment":
        backend: dict = {"virtualServiceName": COURSES}
        if backend_policy:
            backend["clientPolicy"] = {"tls": backend_policy}
        spec["backends"] = [{"virtualService": backend}]
    return spec


def _mesh(world: World, courses_tls: dict, enrollment_policy: dict) -> tuple[str, str]:
    mesh = world.client("appmesh")
    mesh.create_mesh(meshName=MESH)
    arns = {}
    for name, spec in (("courses-api", _node_spec("courses-api", listener_tls=courses_tls)),
                       ("enrollment", _node_spec("enrollment", backend_policy=enrollment_policy))):
        if name == "enrollment":
            mesh.create_virtual_service(meshName=MESH, virtualServiceName=COURSES, spec={
                "provider": {"virtualNode": {"virtualNodeName": "courses-api"}}})
        arns[name] = mesh.create_virtual_node(meshName=MESH, virtualNodeName=name, spec=spec)[
            "virtualNode"]["metadata"]["arn"]
    return arns["courses-api"], arns["enrollment"]


def _update(world: World, name: str, spec: dict) -> None:
    world.client("appmesh").update_virtual_node(meshName=MESH, virtualNodeName=name, spec=spec)


def _stats(world: World, ip: str) -> dict[str, int]:
    status, body = world.get(f"http://{ip}:9901/stats")
    assert status == 200
    return {k: int(v) for k, v in (line.split(": ", 1) for line in body.decode().splitlines()) if v.isdigit()}


_learners = itertools.count()


def _enroll(world: World, ip: str, learner: str) -> tuple[int, dict]:
    """A new enrollment (each call a new learner, so none is refused as already enrolled)."""
    status, body = world.post(f"http://{ip}:8080/api/enroll", {"learner": f"{learner}{next(_learners)}",
                                                               "course": "ecs-101"})
    return status, json.loads(body or b"{}")


def _serial(text: str) -> str:
    """ACM's serial ("0a:1b:...") as Envoy's /certs writes it (lower-case hex, no leading zeros).
    (moto's DescribeCertificate gives it in decimal.)"""
    return format(int(text.replace(":", ""), 16) if ":" in text else int(text), "x")


def _private_ca(world: World) -> str:
    """A root CA in AWS Private CA, ACTIVE: its own certificate issued from its CSR and imported."""
    pca = world.client("acm-pca")
    ca = pca.create_certificate_authority(CertificateAuthorityType="ROOT", CertificateAuthorityConfiguration={
        "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
        "Subject": {"CommonName": "shop.internal"}})["CertificateAuthorityArn"]
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=ca)["Csr"]
    issued = pca.issue_certificate(CertificateAuthorityArn=ca, Csr=csr, SigningAlgorithm="SHA256WITHECDSA",
                                   TemplateArn="arn:aws:acm-pca:::template/RootCACertificate/V1",
                                   Validity={"Value": 10, "Type": "YEARS"})["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=ca, CertificateArn=issued,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    certificate = pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=issued)["Certificate"]
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=ca, Certificate=certificate)
    return ca


def test_acm_private_certificates_encrypt_the_mesh_and_follow_a_reissue(world):
    ca = _private_ca(world)
    acm = world.client("acm")
    certificate = acm.request_certificate(DomainName=COURSES, CertificateAuthorityArn=ca,
                                          KeyAlgorithm="EC_prime256v1")["CertificateArn"]
    listener_tls = {"mode": "STRICT", "certificate": {"acm": {"certificateArn": certificate}}}
    policy = {"validation": {"trust": {"acm": {"certificateAuthorityArns": [ca]}}}}
    courses_node, enrollment_node = _mesh(world, listener_tls, policy)
    # The proxies' role: the stream, the listener's certificate, the client policy's CA (tls.html).
    role = _role(world, "meshed-tls", ["appmesh:StreamAggregatedResources", "acm:ExportCertificate",
                                       "acm-pca:GetCertificateAuthorityCertificate"])
    registries = _cloud_map(world)
    _service(world, "courses", _task(world, "courses", "public.ecr.aws/mylearning/courses-api:1.2.0", courses_node,
                                     role), registries["courses-api"])
    _service(world, "enrollment", _task(world, "enrollment", "public.ecr.aws/mylearning/enrollment:1.1.0",
                                        enrollment_node, role, env={"COURSES_API_URL": f"http://{COURSES}:8080"}),
             registries["enrollment"])
    courses_ip = private_ip(_running(world, "courses")[0])
    ip = private_ip(_running(world, "enrollment")[0])
    status, body = _enroll(world, ip, "ada")
    assert status == 201, body
    mine, theirs = _stats(world, ip), _stats(world, courses_ip)
    assert mine[f"{EGRESS_CLUSTER}.ssl.handshake"] >= 1 and mine[f"{EGRESS_CLUSTER}.ssl.fail_verify_san"] == 0
    assert theirs[f"{LISTENER}.ssl.handshake"] >= 1 and theirs[f"{LISTENER}.ssl.connection_error"] == 0
    # Each connection counts once (Envoy's listener downstream_cx_total), and every one was TLS.
    assert theirs[f"{LISTENER}.downstream_cx_total"] == theirs[f"{LISTENER}.ssl.handshake"]
    # One-way TLS: enrollment's proxy presents no certificate.
    assert theirs[f"{LISTENER}.ssl.no_certificate"] == theirs[f"{LISTENER}.ssl.handshake"]
    detail = acm.describe_certificate(CertificateArn=certificate)["Certificate"]
    status, certs = world.get(f"http://{courses_ip}:9901/certs")
    leaf = json.loads(certs)["certificates"][0]["cert_chain"][0]
    assert leaf["serial_number"] == _serial(detail["Serial"]) and leaf["path"] == "<inline>"
    assert {"dns": COURSES} in leaf["subject_alt_names"]
    assert detail["RenewalEligibility"] == "ELIGIBLE"  # exported for the proxy
    # The client now trusts another name only: the handshake fails on the SAN (mutual-tls.html,
    # "Verifying mutual TLS authentication": cluster.cds_egress_...ssl.fail_verify_san).
    wrong = {**policy, "validation": {**policy["validation"],
                                      "subjectAlternativeNames": {"match": {"exact": [f"payments.{NAMESPACE}"]}}}}
    _update(world, "enrollment", _node_spec("enrollment", backend_policy=wrong))
    status, body = wait_for("enrollment's proxy to refuse courses-api's certificate",
                            lambda: (lambda r: r if r[0] != 201 else None)(_enroll(world, ip, "bob")), timeout=20)
    assert status == 502 and body["reason"] == "courses-api answered 503", body
    mine = _stats(world, ip)
    assert mine[f"{EGRESS_CLUSTER}.ssl.fail_verify_san"] >= 1 and mine[f"{EGRESS_CLUSTER}.upstream_cx_connect_fail"] >= 1
    # A re-issued certificate (a new one from the same CA on the listener): served without a restart.
    reissued = acm.request_certificate(DomainName=COURSES, CertificateAuthorityArn=ca,
                                       KeyAlgorithm="EC_prime256v1")["CertificateArn"]
    _update(world, "courses-api", _node_spec("courses-api", listener_tls={
        "mode": "STRICT", "certificate": {"acm": {"certificateArn": reissued}}}))
    _update(world, "enrollment", _node_spec("enrollment", backend_policy=policy))
    new_serial = _serial(acm.describe_certificate(CertificateArn=reissued)["Certificate"]["Serial"])
    wait_for("courses-api's proxy to serve the re-issued certificate",
             lambda: _leaf_serial(world, courses_ip) == new_serial, timeout=20)
    status, body = wait_for("enrollment to succeed again", lambda: (lambda r: r if r[0] == 201 else None)(
        _enroll(world, ip, "cy")), timeout=20)
    assert body["enrollment"]["course_title"]


def test_file_certificates_give_mutual_tls_as_the_walkthrough_does(world):
    ca = pki.create_ca("shop CA")
    courses_cert, enrollment_cert = ca.issue(COURSES), ca.issue(f"enrollment.{NAMESPACE}")
    sm = world.client("secretsmanager")
    key_arns = {name: sm.create_secret(Name=f"{name}-key", SecretString=issued.private_key_pem())["ARN"]
                for name, issued in (("courses", courses_cert), ("enrollment", enrollment_cert))}
    execution = _role(world, "exec-tls", ["secretsmanager:GetSecretValue"], [*key_arns.values(), world.secret],
                      execution=True)  # the keys, and the app's database secret
    listener_tls = {"mode": "STRICT",
                    "certificate": {"file": {"certificateChain": "/keys/courses_cert_chain.pem",
                                             "privateKey": "/keys/courses_key.pem"}},
                    "validation": {"trust": {"file": {"certificateChain": "/keys/ca_cert.pem"}}}}
    policy = {"validation": {"trust": {"file": {"certificateChain": "/keys/ca_cert.pem"}}},
              "certificate": {"file": {"certificateChain": "/keys/enrollment_cert_chain.pem",
                                       "privateKey": "/keys/enrollment_key.pem"}}}
    courses_node, enrollment_node = _mesh(world, listener_tls, policy)
    role = _role(world, "meshed-files", ["appmesh:StreamAggregatedResources"])
    registries = _cloud_map(world)
    for name, node, image, env, issued in (
            ("courses", courses_node, "courses-api:1.2.0", None, courses_cert),
            ("enrollment", enrollment_node, "enrollment:1.1.0", {"COURSES_API_URL": f"http://{COURSES}:8080"},
             enrollment_cert)):
        files = {f"{name}_cert_chain.pem": issued.chain_pem, "ca_cert.pem": ca.certificate_pem}
        taskdef = _task(world, name, f"public.ecr.aws/mylearning/{image}", node, role, env=env, files=files,
                        keys={f"{name}_key.pem": key_arns[name]}, execution_role=execution)
        _service(world, name, taskdef, registries["courses-api" if name == "courses" else "enrollment"])
    courses_ip = private_ip(_running(world, "courses")[0])
    ip = private_ip(_running(world, "enrollment")[0])
    status, body = _enroll(world, ip, "ada")
    assert status == 201, body
    theirs = _stats(world, courses_ip)
    # mutual-tls.html: handshakes, and none without a client certificate.
    assert theirs[f"{LISTENER}.ssl.handshake"] >= 1 and theirs[f"{LISTENER}.ssl.no_certificate"] == 0
    assert _stats(world, ip)[f"{EGRESS_CLUSTER}.ssl.handshake"] >= 1
    context = json.loads(world.get(f"http://{courses_ip}:9901/certs")[1])["certificates"][0]
    assert context["cert_chain"][0]["path"] == "/keys/courses_cert_chain.pem"
    assert context["ca_cert"][0]["path"] == "/keys/ca_cert.pem"
    # STRICT refuses plaintext: a client outside the mesh, straight to the task's app port.
    before = _stats(world, courses_ip)
    status, _ = world.get(f"http://{courses_ip}:8080/health")
    assert status == 502
    after = _stats(world, courses_ip)
    assert after[f"{LISTENER}.ssl.connection_error"] == before[f"{LISTENER}.ssl.connection_error"] + 1
    # The refused connection was accepted first: Envoy counts it among the listener's connections.
    assert after[f"{LISTENER}.downstream_cx_total"] == before[f"{LISTENER}.downstream_cx_total"] + 1
    # The client certificate goes: the listener's validation refuses the handshake.
    _update(world, "enrollment", _node_spec("enrollment", backend_policy={"validation": policy["validation"]}))
    status, body = wait_for("courses-api's proxy to require enrollment's certificate",
                            lambda: (lambda r: r if r[0] != 201 else None)(_enroll(world, ip, "bob")), timeout=20)
    assert status == 502 and re.search("answered 503", body["reason"]), body
    assert _stats(world, courses_ip)[f"{LISTENER}.ssl.fail_verify_no_cert"] >= 1
