"""Lab 07, mutual TLS: its declaration, the TLS it turns on, its end state and its teardown.

MyLearning's mesh (lab 06) carries every call between its services in plaintext. This lab
encrypts it and then makes every proxy prove who it is, in the order AWS documents so that no
request fails on the way (https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html,
https://docs.aws.amazon.com/app-mesh/latest/userguide/mutual-tls.html):

1. a private CA (AWS Private CA) and, from it, an ACM private certificate for each virtual
   node, named as its callers know it (its Cloud Map name, ``service.namespace``);
2. the nodes' listeners PERMISSIVE with those certificates: callers already negotiate TLS
   (an ACM certificate is validated against the CA it chains up to), plaintext still works;
3. client policies that trust the CA and name the servers (SANs), then STRICT; the ALB's
   health checks of the services' own target groups, plaintext by nature, have moved to
   Envoy's admin ``/ready`` before TLS went on (step 7.3), or STRICT would fail them and ECS
   would replace every task;
4. a SAN the client does not expect: the handshake fails (``ssl.fail_verify_san``);
5. mutual TLS from files, as App Mesh requires for client certificates and for the trust a
   listener verifies clients with: the files reach each proxy through a task volume (a
   ``certs`` container writes them, the keys from Secrets Manager); the clients present
   their certificates, then the listeners require them, limited to the clients' names;
6. a client without a certificate refused (``ssl.fail_verify_no_cert``);
7. rotation: a re-issued ACM certificate is served without a restart; file certificates
   are read when the proxy starts ("Envoy will not automatically reload the certificate when
   it changes", tls.html), so rotating them means new tasks;
8. the story's "100% mutual TLS" computed from every proxy's own counters.

Like lab 06 it runs on the embedded AWS only: App Mesh reached end of support on 2026-09-30.
On a real account AWS Private CA costs money from the moment a CA exists
(`mylearning.privateca.COSTS`); the notebook shows that table.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterable

from mylearning import cloudmap, deployments, lookup, mesh, microservices as ms, privateca, taskdefs
from mylearning.answers import read_answer, record_answer
from mylearning.course import LabInfo
from mylearning.course import lab06_app_mesh as lab06
from mylearning.facts import envoy as envoy_facts
from mylearning.mesh import admin, sidecar
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "07", "Mutual TLS",
    services=("acm", "acm-pca", "appmesh", "cloudwatch", "ec2", "ecs", "elbv2", "iam", "logs", "secretsmanager",
              "servicediscovery", "ssm", "sts"),
    concepts=("privateca", "pki", "mesh", "taskdefs", "deployments", "microservices", "traffic",
              "answers", "tasks"))

UNAVAILABLE = lab06.UNAVAILABLE.replace("this lab cannot create a mesh", "this lab cannot turn on a mesh's TLS")


def unavailable_reason(session: Any) -> str | None:
    """Why the lab cannot run against this session (a real account), or None."""
    return None if session.is_emulator else UNAVAILABLE


# ---------------------------------------------------------------- names
#: The meshed services that serve requests (their virtual nodes get listener TLS).
SERVERS = tuple(lab06.NODES)                # courses-api, enrollment
#: The proxies that call them: the gateway calls both, enrollment calls the courses API.
CLIENTS = (lab06.GATEWAY_SERVICE, "enrollment")
#: Which clients each server accepts once it asks for client certificates.
ACCEPTS = {"courses-api": ("gateway", "enrollment"), "enrollment": ("gateway",)}

#: Policies on the task roles and the execution role.
TLS_POLICY = "appmesh-tls"
KEYS_POLICY = "appmesh-client-keys"

#: Certificate files in every proxy's /certs.
CA_FILE, CLIENT_CHAIN_FILE, CLIENT_KEY_FILE = "ca.pem", "client.pem", "client-key.pem"
#: The JSON keys of a client's secret.
CHAIN_KEY, KEY_KEY = "certificate_chain", "private_key"

#: Requests a second to each path through the ALB while TLS goes on (low: the embedded AWS
#: runs every task on this machine), and the answers recorded.
TRAFFIC_RATE = 4
TRAFFIC_PATHS = lab06.MOVE_PATHS
TRAFFIC_MINIMUM = 30
PHASES = {"tls": "7.4", "mtls": "7.6"}
SHARE = "mtls-share"
SAN_FAILURES = "san-mismatch-failures"
#: The name a client policy is told to expect in step 7.5 (nobody's certificate carries it).
WRONG_SAN_SERVICE = "payments"


def ca_name(session: Any) -> str:
    return f"{session.prefix} mesh root CA"


def namespace(session: Any) -> str:
    return cloudmap.namespace_name(session)


def domain(session: Any, service: str) -> str:
    """The name in a service's certificate: its Cloud Map name, ``service.namespace``, which App
    Mesh's Envoy expects when no SANs are listed (tls.html, "Certificate requirements"). The
    gateway, which nobody calls inside the mesh, is named the same way."""
    return f"{service}.{namespace(session)}"


def requests_key(phase: str) -> str:
    return f"{phase}-requests"


def failures_key(phase: str) -> str:
    return f"{phase}-failures"


def role_of(session: Any, service: str) -> str:
    return lab06.gateway_role_name(session) if service == lab06.GATEWAY_SERVICE else ms.task_role_name(session, service)


def ecs_service(session: Any, service: str) -> str:
    return lab06.gateway_name(session) if service == lab06.GATEWAY_SERVICE else ms.service_name(session, service)


# ---------------------------------------------------------------- CA and certificates
def ensure_ca(session: Any, lab: str = ABOUT.number) -> str:
    """Step 7.1: the mesh's root CA, ACTIVE."""
    return privateca.ensure_root_ca(session, lab, ca_name(session))


def find_ca(session: Any) -> dict | None:
    return privateca.find_root_ca(session, ABOUT.number, ca_name(session))


def ensure_certificates(session: Any, lab: str, ca_arn: str) -> dict[str, str]:
    """Step 7.2: an ACM private certificate per server node (service -> ARN): the one its
    listener serves, once it serves one; else found by name, or requested."""
    return {s: listener_certificate(session, s) or privateca.ensure_certificate(session, lab, domain(session, s), ca_arn)
            for s in SERVERS}


def listener_certificate(session: Any, service: str) -> str | None:
    """The ACM certificate ARN the service's node's listener serves, if any."""
    return ((node_tls(session, service).get("certificate") or {}).get("acm") or {}).get("certificateArn")


def allow_tls(session: Any, ca_arn: str, certificates: dict[str, Iterable[str]] | None = None) -> None:
    """Step 7.2's permissions: each server's task role may export its certificates (all of the
    ones given: the served one and, while rotating, the next), every proxy's role may read the
    CA's certificate (tls.html)."""
    iam = session.client("iam")
    for service in (*SERVERS, lab06.GATEWAY_SERVICE):
        arns = list((certificates or {}).get(service, ()))
        iam.put_role_policy(RoleName=role_of(session, service), PolicyName=TLS_POLICY, PolicyDocument=json.dumps(
            sidecar.tls_permissions(certificates=arns, authorities=[ca_arn])))


def tls_policy(session: Any, service: str) -> dict | None:
    """The role's TLS policy document, or None."""
    iam = session.client("iam")
    try:
        return iam.get_role_policy(RoleName=role_of(session, service), PolicyName=TLS_POLICY)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None


# ---------------------------------------------------------------- the nodes' TLS
def client_files() -> tuple[str, str]:
    """A client's certificate chain and key, as paths in its proxy."""
    paths = sidecar.certificate_paths((CLIENT_CHAIN_FILE, CLIENT_KEY_FILE))
    return paths[CLIENT_CHAIN_FILE], paths[CLIENT_KEY_FILE]


def trust_file() -> str:
    return sidecar.certificate_paths((CA_FILE,))[CA_FILE]


def server_tls(session: Any, service: str, certificate_arn: str, *, mode: str, mutual: bool = False) -> dict:
    """A server node's listener TLS: its ACM certificate in `mode`; with `mutual`, client
    certificates required, verified against the CA file and limited to `ACCEPTS`' names."""
    if not mutual:
        return mesh.listener_tls(certificate_arn, mode=mode)
    return mesh.listener_tls(certificate_arn, mode=mode, trust=trust_file(),
                             subject_alternative_names=[domain(session, c) for c in ACCEPTS[service]])


def client_policy(session: Any, ca_arn: str, *, server: str | None = None, mutual: bool = False,
                  sans: Iterable[str] | None = None) -> dict:
    """A client policy trusting the CA; for `server`, the name its certificate must carry
    (`sans` overrides it: step 7.5); with `mutual`, the client's own certificate files."""
    names = list(sans) if sans is not None else ([domain(session, server)] if server else None)
    return mesh.client_policy(ca_arn, subject_alternative_names=names, certificate=client_files() if mutual else None)


def ensure_node(session: Any, lab: str, service: str, *, certificate_arn: str | None, ca_arn: str | None,
                mode: str = "STRICT", mutual_server: bool = False, client_certificate: bool = False,
                sans: Iterable[str] | None = None) -> dict:
    """One of lab 06's nodes with this lab's TLS: its listener (with `certificate_arn`) and,
    for enrollment, its policy towards the courses API (with `ca_arn`)."""
    backends: dict[str, dict | None] = {}
    if service == "enrollment":
        backends[lab06.virtual_service(session, "courses-api")] = (
            client_policy(session, ca_arn, server="courses-api", mutual=client_certificate, sans=sans)
            if ca_arn else None)
    tls = server_tls(session, service, certificate_arn, mode=mode, mutual=mutual_server) if certificate_arn else None
    return mesh.ensure_virtual_node(
        session, lab, lab06.mesh_name(session), lab06.NODES[service], update=True,
        discovery=mesh.cloud_map(namespace(session), service), health_check=mesh.health_check(ms.HEALTH_PATH),
        backends=backends, tls=tls)


def ensure_gateway_policy(session: Any, lab: str, ca_arn: str | None, *, mutual: bool = False) -> dict:
    """The virtual gateway's client policy for every backend (backendDefaults): trust the CA,
    the backends' own names (no SANs listed: the service discovery name must match), and with
    `mutual` the gateway's client certificate."""
    return mesh.ensure_virtual_gateway(session, lab, lab06.mesh_name(session), lab06.GATEWAY, port=ms.APP_PORT,
                                       update=True, client_policy=(client_policy(session, ca_arn, mutual=mutual)
                                                                   if ca_arn else None))


def set_tls(session: Any, lab: str, ca_arn: str, certificates: dict[str, str], *, mode: str,
            policies: bool = True, mutual_clients: bool = False, mutual_servers: bool = False) -> None:
    """Every node and the gateway at one stage of the rollout."""
    if policies:
        ensure_gateway_policy(session, lab, ca_arn, mutual=mutual_clients)
    for service in SERVERS:
        ensure_node(session, lab, service, certificate_arn=certificates[service], ca_arn=ca_arn if policies else None,
                    mode=mode, mutual_server=mutual_servers, client_certificate=mutual_clients)


def node_tls(session: Any, service: str) -> dict:
    """The service's node's listener TLS as App Mesh describes it ({} without)."""
    node = lookup.mesh_resource(session, "virtualNode", lab06.mesh_name(session), lab06.NODES[service])
    return ((((node or {}).get("spec") or {}).get("listeners") or [{}])[0]).get("tls") or {}


def enrollment_policy(session: Any) -> dict:
    """enrollment's client policy towards the courses API ({} without)."""
    node = lookup.mesh_resource(session, "virtualNode", lab06.mesh_name(session), lab06.NODES["enrollment"])
    courses = lab06.virtual_service(session, "courses-api")
    for backend in ((node or {}).get("spec") or {}).get("backends", []):
        service = backend.get("virtualService") or {}
        if service.get("virtualServiceName") == courses:
            return (service.get("clientPolicy") or {}).get("tls") or {}
    return {}


def gateway_policy(session: Any) -> dict:
    gateway = lookup.mesh_resource(session, "virtualGateway", lab06.mesh_name(session), lab06.GATEWAY)
    return ((((gateway or {}).get("spec") or {}).get("backendDefaults") or {}).get("clientPolicy") or {}).get("tls") or {}


# ---------------------------------------------------------------- the ALB's health checks
def health_check_to_envoy(session: Any) -> list[str]:
    """Step 7.3's first change, before TLS goes on anywhere: the services' own target groups (lab 04) check Envoy's
    admin /ready on 9901 instead of the app port, which STRICT TLS closes to a plaintext
    client such as the ALB. Since lab 06 those groups take no request (the gateway's rule
    comes first); they only keep ECS informed. Returns the groups changed."""
    elb, changed = session.client("elbv2"), []
    for service in SERVERS:
        group = lookup.target_group(session, ms.target_group_name(session, service))
        if group and str(group.get("HealthCheckPort")) != str(envoy_facts.ADMIN_PORT):
            elb.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckProtocol="HTTP",
                                    HealthCheckPort=str(envoy_facts.ADMIN_PORT), HealthCheckPath="/ready",
                                    Matcher={"HttpCode": "200"})
            changed.append(group["TargetGroupName"])
    return changed


# ---------------------------------------------------------------- traffic while TLS goes on
def start_traffic(session: Any, alb: dict) -> list:
    """`TRAFFIC_RATE` requests a second to each service through the ALB and the gateway, in the
    background, once every service is steady."""
    from mylearning import traffic
    cluster = session.name("cluster")
    for service in (*SERVERS, lab06.GATEWAY_SERVICE):
        deployments.wait_steady(session, cluster, ecs_service(session, service), timeout=180, delay=0.5)
    return [traffic.start(session, f"http://{alb['DNSName']}{path}", rate=TRAFFIC_RATE, duration=300)
            for path in TRAFFIC_PATHS.values()]


def errors_key(phase: str) -> str:
    return f"{phase}-errors"


def stop_traffic(session: Any, loads: list, phase: str) -> list:
    """Stop the traffic and record how many requests were sent, how many failed, and how
    (each kind of failure with one example answer, so a check can say what went wrong)."""
    deadline = time.monotonic() + 20  # enough answered to tell (the changes may have been quick)
    while sum(len(load.recorder.results) for load in loads) < TRAFFIC_MINIMUM and time.monotonic() < deadline:
        time.sleep(0.25)
    summaries = [load.stop() for load in loads]
    sent = sum(s.count for s in summaries)
    failed = sum(n for s in summaries for status, n in s.by_status.items() if not 200 <= int(status) < 300)
    kinds: dict[str, int] = {}
    for summary in summaries:
        for kind, n in summary.errors.items():
            example = summary.error_examples.get(kind, "")
            label = f"{kind}: {example[:400]}" if example else kind
            kinds[label] = kinds.get(label, 0) + n
    record_answer(ABOUT.number, requests_key(phase), sent, session=session)
    record_answer(ABOUT.number, failures_key(phase), failed, session=session)
    record_answer(ABOUT.number, errors_key(phase), kinds or {"none": 0}, session=session)
    return summaries


def wait_applied(session: Any, seconds: float = 1.5) -> None:
    """App Mesh pushes a change to every proxy within seconds (the embedded AWS: within one)."""
    time.sleep(seconds if session.is_emulator else 30)


# ---------------------------------------------------------------- reading the proxies
def proxies(session: Any, service: str) -> list[tuple[dict, dict[str, int] | None]]:
    """Each running task of the service (server, client or gateway) with its proxy's stats."""
    return lab06.proxies(session, ecs_service(session, service))


def listener(stat: str) -> str:
    """A stat of the ingress listener: ``listener.0.0.0.0_15000.<stat>``."""
    return f"listener.0.0.0.0_{envoy_facts.INGRESS_PORT}.{stat}"


def egress_tls(session: Any, server: str, stat: str) -> str:
    """A TLS stat of a caller's cluster towards `server`'s node, e.g. ``ssl.fail_verify_san``."""
    return f"cluster.{lab06.egress_cluster(session, server)}.{stat}"


def served_serials(session: Any, service: str) -> list[str]:
    """The serial numbers of the ACM certificates the service's proxies serve (from /certs)."""
    from mylearning import tasks
    if not lab06.admin_open(session):
        return []
    return [serial for task in lab06.running_tasks(session, ecs_service(session, service))
            for serial in admin.served_serials(admin.certs(session, tasks.private_ip(task)))]


def wait_encrypted(session: Any, base: str, timeout: float = 30.0) -> dict[str, int]:
    """Send a few requests through the ALB until every server's proxies show TLS handshakes on
    their ingress (App Mesh sends the change, then each proxy its certificate and each caller
    the CA: seconds). service -> handshakes; a service missing from it had none in time."""
    from mylearning import traffic
    deadline = time.monotonic() + timeout
    found: dict[str, int] = {}
    while True:
        for path in TRAFFIC_PATHS.values():
            traffic.send(session, f"{base}{path}", requests=4, concurrency=2)
        found = {s: n for s in SERVERS if (n := admin.total([st for _, st in proxies(session, s)],
                                                              listener("ssl.handshake")))}
        if len(found) == len(SERVERS) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def san_failures(session: Any) -> int:
    """Handshakes enrollment's proxies refused because the courses API's certificate did not
    carry a name the client policy lists (``ssl.fail_verify_san`` of their cluster)."""
    return admin.total([stats for _, stats in proxies(session, "enrollment")],
                       egress_tls(session, "courses-api", "ssl.fail_verify_san"))


def mtls_share(session: Any) -> dict[str, dict[str, int]]:
    """From every server proxy's counters: connections accepted on the ingress listener, TLS
    handshakes, those without a client certificate, plaintext attempts refused. task -> counts."""
    from mylearning import tasks
    table = {}
    for service in SERVERS:
        for task, stats in proxies(session, service):
            if stats is None:
                continue
            table[f"{service} {tasks.private_ip(task)}"] = {
                "connections": stats.get(listener("downstream_cx_total"), 0),
                "handshakes": stats.get(listener("ssl.handshake"), 0),
                "without client certificate": stats.get(listener("ssl.no_certificate"), 0),
                "refused": stats.get(listener("ssl.connection_error"), 0) + stats.get(listener("ssl.fail_verify_no_cert"), 0)
                + stats.get(listener("ssl.fail_verify_san"), 0)}
    return table


def difference(after: dict[str, dict[str, int]], before: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counters are totals since each proxy started: what happened between two readings (a
    task that started in between counts from zero)."""
    return {task: {k: v - before.get(task, {}).get(k, 0) for k, v in row.items()} for task, row in after.items()}


def measure_share(session: Any, base: str, requests: int = 40) -> tuple[dict, float]:
    """Step 7.9: read every server proxy, send requests through the whole mesh (the gateway to
    both services, enrollment to the courses API), read again: the connections in between and
    the share of them that were mutual TLS."""
    from mylearning import traffic
    before = mtls_share(session)
    traffic.send(session, f"{base}/api/courses", requests=requests, concurrency=5)
    for _ in range(3):
        lab06.enroll_once(session, base)
    table = difference(mtls_share(session), before)
    return table, share_of_mtls(table)


def share_of_mtls(table: dict[str, dict[str, int]]) -> float:
    """Mutual TLS connections (handshakes with a client certificate) over all connections."""
    connections = sum(row["connections"] for row in table.values())
    mutual = sum(row["handshakes"] - row["without client certificate"] for row in table.values())
    return round(mutual / connections, 4) if connections else 0.0


# ---------------------------------------------------------------- certificate files
def client_secret_name(session: Any, service: str) -> str:
    return f"{session.prefix}/mesh/{service}/client-certificate"


def store_client(session: Any, lab: str, service: str, ca_arn: str, *, renew: bool = False) -> str:
    """The client's certificate (its ACM private certificate, exported), chain and key together
    in one Secrets Manager secret, whose ARN this returns: a task reads both from the same
    version, so a rotation can never pair a new key with an old certificate. `renew` issues a
    new certificate and stores it as the secret's next version (step 7.8)."""
    from mylearning import identity
    name = domain(session, service)
    arn = privateca.request_certificate(session, lab, name, ca_arn) if renew else \
        privateca.ensure_certificate(session, lab, name, ca_arn)
    exported = privateca.export(session, arn)
    value = json.dumps({CHAIN_KEY: exported.certificate_chain, KEY_KEY: exported.private_key})
    sm = session.client("secretsmanager")
    secret = client_secret_name(session, service)
    try:
        found = sm.describe_secret(SecretId=secret)
    except sm.exceptions.ResourceNotFoundException:
        return sm.create_secret(Name=secret, SecretString=value, Description=f"{service}'s mesh client certificate "
                                "and key (lab 07)", Tags=identity.tag_list(lab, session.learner))["ARN"]
    if renew:
        sm.put_secret_value(SecretId=secret, SecretString=value)
    return found["ARN"]


def stored_client_serial(session: Any, service: str) -> str | None:
    """The serial number (Envoy's hex) of the client certificate the client's secret holds now."""
    from cryptography import x509
    sm = session.client("secretsmanager")
    try:
        value = json.loads(sm.get_secret_value(SecretId=client_secret_name(session, service))["SecretString"])
        return format(x509.load_pem_x509_certificate(value[CHAIN_KEY].encode()).serial_number, "x")
    except (sm.exceptions.ResourceNotFoundException, ValueError, KeyError):
        return None


def presented_client_serials(session: Any, service: str) -> list[str | None]:
    """Per running task of a client: the serial of the client certificate its proxy presents
    (from /certs: the file certificate of a cluster's context), None where it has used none yet."""
    from mylearning import tasks
    chain, _ = client_files()
    found = []
    for task in lab06.running_tasks(session, ecs_service(session, service)):
        contexts = admin.certs(session, tasks.private_ip(task)) or []
        serials = {c.get("serial_number") for context in contexts for c in context.get("cert_chain", [])
                   if c.get("path") == chain}
        found.append(sorted(serials)[0] if len(serials) == 1 else (",".join(sorted(serials)) or None))
    return found


def file_material(session: Any, lab: str, ca_arn: str, *, renew: bool = False) -> dict[str, tuple[dict, dict]]:
    """service -> (files, secrets) for `sidecar.with_certificate_files`: the CA on each server
    (to verify clients with), each client's certificate chain and key from its secret."""
    ca_pem = privateca.ca_certificate_pem(session, ca_arn)
    material: dict[str, tuple[dict, dict]] = {}
    for service in (*SERVERS, lab06.GATEWAY_SERVICE):
        files, secrets = {}, {}
        if service in SERVERS:
            files[CA_FILE] = ca_pem
        if service in CLIENTS:
            arn = store_client(session, lab, service, ca_arn, renew=renew)
            secrets[CLIENT_CHAIN_FILE], secrets[CLIENT_KEY_FILE] = f"{arn}:{CHAIN_KEY}::", f"{arn}:{KEY_KEY}::"
        material[service] = (files, secrets)
    return material


def allow_keys(session: Any, secret_arns: Iterable[str]) -> None:
    """The execution role may read the client keys (ECS injects them into the certs container)."""
    session.client("iam").put_role_policy(
        RoleName=ms.execution_role_name(session), PolicyName=KEYS_POLICY, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Sid": "MeshClientKeys", "Effect": "Allow",
                                                    "Action": ["secretsmanager:GetSecretValue"],
                                                    "Resource": sorted(set(secret_arns))}]}))


def register_with_files(session: Any, lab: str, material: dict[str, tuple[dict, dict]]) -> dict[str, dict]:
    """Each meshed service's next revision, with its certificate files (found when it exists)."""
    ecs, cluster, found = session.client("ecs"), session.name("cluster"), {}
    allow_keys(session, [arn.split(f":{CHAIN_KEY}")[0].split(f":{KEY_KEY}")[0]
                         for _, secrets in material.values() for arn in secrets.values()])
    for service, (files, secrets) in material.items():
        current = lookup.ecs_service(session, cluster, ecs_service(session, service))
        running = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])["taskDefinition"]
        spec = sidecar.with_certificate_files(taskdefs.as_spec(running, tags=session.tags(lab, style="key")),
                                              files=files, secrets=secrets)
        found[service], _ = taskdefs.ensure_registered(ecs, spec)
    return found


def roll_out(session: Any, revisions: dict[str, dict], *, force: bool = False) -> list[str]:
    """Update each service to its revision (or, with `force`, start new tasks of the same one),
    one at a time, each steady before the next: fewer tasks start at once, and a caller always
    finds a steady backend. Returns the services updated."""
    ecs, cluster, updated = session.client("ecs"), session.name("cluster"), []
    for service, td in revisions.items():
        name = ecs_service(session, service)
        if force or lookup.ecs_service(session, cluster, name)["taskDefinition"] != td["taskDefinitionArn"]:
            ecs.update_service(cluster=cluster, service=name, taskDefinition=td["taskDefinitionArn"],
                               forceNewDeployment=force)
            deployments.wait_steady(session, cluster, name, timeout=240, delay=0.5)
            updated.append(service)
    return updated


def has_files(session: Any, service: str) -> bool:
    """Whether the service runs a revision whose proxy reads certificate files."""
    found = lookup.ecs_service(session, session.name("cluster"), ecs_service(session, service))
    if not found:
        return False
    td = session.client("ecs").describe_task_definition(taskDefinition=found["taskDefinition"])["taskDefinition"]
    return bool(sidecar.certificate_files_of(td))


# ---------------------------------------------------------------- enrolling through the mesh
def enroll_until(session: Any, base: str, created: bool, attempts: int = 40) -> Any:
    """Enroll until the answer is (or, with created=False, is not) 201."""
    answer = None
    for _ in range(attempts):
        answer = lab06.enroll_once(session, base)
        if (answer.status == 201) == created:
            return answer
        time.sleep(0.25)
    return answer


def base_url(session: Any) -> str:
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    return f"http://{alb['DNSName']}"


# ---------------------------------------------------------------- the end state
def end_state(session: Any) -> None:
    """Lab 07's end state, as the solution leaves it: the CA and certificates, STRICT mutual TLS
    between every proxy (turned on under traffic), the SAN mismatch and the missing client
    certificate seen, the certificates rotated, the share computed.

    Not yet the lab's ``build`` (what `prepare.up_to` runs for later labs; no later lab exists
    yet): lab 07's certificate rollout gives the courses API a new deployment and moves its
    target group's health check to Envoy's /ready, and lab 04's checks 4.2 and 4.8 read the
    current health check path and the current deployment's traffic, so a course prepared past
    lab 07 would lose lab 04's points. The lab that needs mutual TLS in place makes it `build`
    once lab 04's checks accept a meshed, encrypted service."""
    reason = unavailable_reason(session)
    if reason:
        print(reason)
        return
    lab = ABOUT.number
    if read_answer(session, lab, SHARE) is not None and node_tls(session, "courses-api").get("validation"):
        return  # built already
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    base = f"http://{alb['DNSName']}"
    ca = ensure_ca(session, lab)
    certs = ensure_certificates(session, lab, ca)
    allow_tls(session, ca, {s: [certs[s]] for s in SERVERS})
    health_check_to_envoy(session)
    loads = start_traffic(session, alb)
    try:
        set_tls(session, lab, ca, certs, mode="PERMISSIVE", policies=False)
        wait_encrypted(session, base)
        set_tls(session, lab, ca, certs, mode="PERMISSIVE")
        wait_applied(session)
        set_tls(session, lab, ca, certs, mode="STRICT")
        wait_applied(session)
    finally:
        stop_traffic(session, loads, "tls")
    ensure_node(session, lab, "enrollment", certificate_arn=certs["enrollment"], ca_arn=ca,
                sans=[domain(session, WRONG_SAN_SERVICE)])
    enroll_until(session, base, created=False)
    record_answer(lab, SAN_FAILURES, san_failures(session), session=session)
    ensure_node(session, lab, "enrollment", certificate_arn=certs["enrollment"], ca_arn=ca)
    enroll_until(session, base, created=True)
    material = file_material(session, lab, ca)
    revisions = register_with_files(session, lab, material)
    roll_out(session, revisions)
    loads = start_traffic(session, alb)
    try:
        set_tls(session, lab, ca, certs, mode="STRICT", mutual_clients=True)
        wait_applied(session)
        set_tls(session, lab, ca, certs, mode="STRICT", mutual_clients=True, mutual_servers=True)
        wait_applied(session)
    finally:
        stop_traffic(session, loads, "mtls")
    ensure_node(session, lab, "enrollment", certificate_arn=certs["enrollment"], ca_arn=ca, mutual_server=True)
    enroll_until(session, base, created=False)
    ensure_node(session, lab, "enrollment", certificate_arn=certs["enrollment"], ca_arn=ca, mutual_server=True,
                client_certificate=True)
    enroll_until(session, base, created=True)
    rotate(session, lab, ca, certs)
    enroll_until(session, base, created=True)
    _, share = measure_share(session, base)
    record_answer(lab, SHARE, share, session=session)


def rotate(session: Any, lab: str, ca: str, certs: dict[str, str]) -> dict[str, str]:
    """Step 7.8: a new ACM certificate for the courses API's listener (served without a
    restart), and new client certificates in the clients' secrets, read by their new tasks
    (the same revision, a new deployment). Returns the servers' certificates."""
    old = certs["courses-api"]
    new = privateca.request_certificate(session, lab, domain(session, "courses-api"), ca)
    certs = {**certs, "courses-api": new}
    allow_tls(session, ca, {"courses-api": [old, new], "enrollment": [certs["enrollment"]]})
    set_tls(session, lab, ca, certs, mode="STRICT", mutual_clients=True, mutual_servers=True)
    for service in CLIENTS:
        store_client(session, lab, service, ca, renew=True)
    cluster, ecs = session.name("cluster"), session.client("ecs")
    current = {s: ecs.describe_task_definition(taskDefinition=lookup.ecs_service(
        session, cluster, ecs_service(session, s))["taskDefinition"])["taskDefinition"] for s in CLIENTS}
    roll_out(session, current, force=True)
    return certs


# ---------------------------------------------------------------- teardown
def teardown(session: Any, execute: bool = False) -> Plan:
    """Lab 07's resources: TLS off on the nodes and the gateway (lab 06's, kept), the services'
    target groups' health checks back to the app, the policies this lab put on the roles, the
    client keys' secrets, the ACM certificates and the CA (disabled, then deleted: AWS keeps it
    restorable for 7 days). The services keep running the revisions with certificate files
    until you roll them back; task definitions stay, as AWS keeps them."""
    if unavailable_reason(session):
        return Plan([]).run(execute)
    lab = ABOUT.number
    iam, sm, elb = session.client("iam"), session.client("secretsmanager"), session.client("elbv2")
    actions: list[Action] = []
    mesh_name = lab06.mesh_name(session)
    if lookup.mesh_resource(session, "virtualGateway", mesh_name, lab06.GATEWAY) and gateway_policy(session):
        actions.append(Action("App Mesh gateway TLS", lab06.GATEWAY,
                              lambda: ensure_gateway_policy(session, lab06.ABOUT.number, None)))
    for service in SERVERS:
        node = lookup.mesh_resource(session, "virtualNode", mesh_name, lab06.NODES[service])
        if node and (node_tls(session, service) or (service == "enrollment" and enrollment_policy(session))):
            actions.append(Action("App Mesh node TLS", lab06.NODES[service], lambda service=service: ensure_node(
                session, lab06.ABOUT.number, service, certificate_arn=None, ca_arn=None)))
        group = lookup.target_group(session, ms.target_group_name(session, service))
        if group and str(group.get("HealthCheckPort")) == str(envoy_facts.ADMIN_PORT):
            actions.append(Action("target group health check", group["TargetGroupName"],
                                  lambda arn=group["TargetGroupArn"]: elb.modify_target_group(
                                      TargetGroupArn=arn, HealthCheckPort="traffic-port",
                                      HealthCheckPath=ms.HEALTH_PATH)))
    for service in (*SERVERS, lab06.GATEWAY_SERVICE):
        role = role_of(session, service)
        if lookup.role(iam, role) is not None and TLS_POLICY in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            actions.append(Action("role policy", f"{role}/{TLS_POLICY}",
                                  lambda role=role: iam.delete_role_policy(RoleName=role, PolicyName=TLS_POLICY)))
    execution = ms.execution_role_name(session)
    if lookup.role(iam, execution) is not None and KEYS_POLICY in iam.list_role_policies(
            RoleName=execution)["PolicyNames"]:
        actions.append(Action("role policy", f"{execution}/{KEYS_POLICY}",
                              lambda: iam.delete_role_policy(RoleName=execution, PolicyName=KEYS_POLICY)))
    for service in CLIENTS:
        name = client_secret_name(session, service)
        try:
            found = sm.describe_secret(SecretId=name)
        except sm.exceptions.ResourceNotFoundException:
            continue
        if lookup.is_course_tagged({"Tags": found.get("Tags", [])}, session) and not found.get("DeletedDate"):
            actions.append(Action("secret", name, lambda name=name: sm.delete_secret(
                SecretId=name, ForceDeleteWithoutRecovery=True)))
    actions += privateca.removal_actions(session, lab)
    return Plan(actions).run(execute)
