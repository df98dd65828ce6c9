"""A container's `secrets`, fetched as ECS fetches them before the container starts.

Each secret names an environment variable and where its value comes from (`valueFrom`):
- Secrets Manager: the secret's ARN, full or partial (without the "-AbCdEf" suffix), with
  optional fields `arn:aws:secretsmanager:region:account:secret:name:json-key:version-stage:version-id`
  (a JSON key of a JSON secret; a staging label or a version id; empty fields skipped).
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
- SSM Parameter Store: the parameter's ARN, or its name when it is in the task's Region
  (any valueFrom that is not a Secrets Manager ARN); fetched with GetParameters, decrypted.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
ECS fetches them with the task execution role, which must allow
secretsmanager:GetSecretValue on the secret and ssm:GetParameters on the parameter, and
kms:Decrypt on the secret's KMS key when that is a customer managed key rather than
aws/secretsmanager (secrets-envvar-secrets-manager.html: "If your secret uses a custom KMS
key ... add kms:Decrypt").
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
The calls are signed as the execution role's session, named after the task as ECS names it,
and the embedded AWS authorises them (mylearning.emulator.fidelity.iam.enforcement, and
...secretsmanager.encryption for the key): its answer is the one that counts, and the reason
below quotes it. The data plane does not second-guess it with a check of its own.
The value is read when the task starts, never again: a secret rotated or given a new
AWSCURRENT value reaches only tasks started afterwards ("If the secret is rotated, the
container doesn't receive the updated value automatically. You must launch a new task",
secrets-envvar-secrets-manager.html).

When it cannot, the task stops with stop code TaskFailedToStart and a reason that starts
"ResourceInitializationError: unable to pull secrets or registry auth: execution resource
retrieval failed: " and goes on (texts as stopped tasks show them in public reports):
- Secrets Manager: "unable to retrieve secret from asm: service call has been retried 1
  time(s): failed to fetch secret ARN from secrets manager: AccessDeniedException: User:
  arn:aws:sts::ACCOUNT:assumed-role/ROLE/TASK_ID is not authorized to perform:
  secretsmanager:GetSecretValue on resource: ARN because no identity-based policy allows the
  secretsmanager:GetSecretValue action"; a missing secret gives "ResourceNotFoundException:
  Secrets Manager can't find the specified secret." in the same place (the service's own
  message), a missing JSON key "... retried 1 time(s): retrieved secret from Secrets Manager
  did not contain json key KEY" (the ECS agent's text, aws/amazon-ecs-agent agent/asm/asm.go);
  a secret under a customer managed key the role may not decrypt gives "AccessDeniedException:
  Access to KMS is not allowed" there, and a disabled key "DecryptionFailure: ..." (Secrets
  Manager's own answers, which the agent passes on; resource-initialization-error.html lists
  missing secret and KMS permissions among the causes:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html);
- Parameter Store: "unable to retrieve secrets from ssm: service call has been retried 1
  time(s): " then the AccessDeniedException for ssm:GetParameters, or
  "invalid ssm parameters: NAME[,NAME]" for parameters that do not exist.
A task definition with secrets but no execution role cannot be registered on AWS
("ClientException: When you are specifying container secrets, you must also specify a value
for 'executionRoleArn'."); should one reach the agent anyway, that is the reason given.
boto3 blocks: call resolve() in a thread from async code (asyncio.to_thread).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from mylearning.dataplane.errors import TaskStartError
from mylearning.dataplane.execution_role import ExecutionRole

PREFIX = ("ResourceInitializationError: unable to pull secrets or registry auth: "
          "execution resource retrieval failed: ")
ASM = PREFIX + "unable to retrieve secret from asm: service call has been retried 1 time(s): "
SSM = PREFIX + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
NO_EXECUTION_ROLE = ("ClientException: When you are specifying container secrets, you must also "
                     "specify a value for 'executionRoleArn'.")
#: GetParameters takes at most 10 names (API_GetParameters.html); the agent batches by 10.
SSM_BATCH = 10


@dataclass(frozen=True)
class SecretRef:
    """Where one secret's value comes from."""
    name: str
    source: str            # "secretsmanager" or "ssm"
    region: str
    account: str
    secret_id: str         # Secrets Manager: the ARN without the trailing fields; SSM: name or ARN
    json_key: str = ""
    version_stage: str = ""
    version_id: str = ""

    @property
    def parameter_names(self) -> list[str]:
        """SSM: the names the parameter may have (an ARN's "parameter/db" is "db" or "/db")."""
        if not self.secret_id.startswith("arn:"):
            return [self.secret_id]
        rest = self.secret_id.split(":", 5)[5][len("parameter"):]
        return [rest[1:], rest] if rest.count("/") == 1 else [rest]

    @property
    def parameter_arn(self) -> str:
        if self.secret_id.startswith("arn:"):
            return self.secret_id
        return f"arn:aws:ssm:{self.region}:{self.account}:parameter/{self.secret_id.lstrip('/')}"


def parse(secret: Mapping[str, str], *, region: str, account: str) -> SecretRef:
    """One entry of a container definition's `secrets` (name, valueFrom)."""
    name, value_from = secret.get("name", ""), secret.get("valueFrom", "")
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager" \
            and parts[5] == "secret":
        extra = (parts[7:] + ["", "", ""])[:3]
        return SecretRef(name, "secretsmanager", parts[3] or region, parts[4] or account,
                         ":".join(parts[:7]), *extra)
    if value_from.startswith("arn:") and len(parts) >= 6 and parts[2] == "ssm":
        return SecretRef(name, "ssm", parts[3] or region, parts[4] or account, value_from)
    return SecretRef(name, "ssm", region, account, value_from)


def resolve(secrets: Iterable[Mapping[str, str]], *, session_for_role: Callable[[str], Any], iam: Any,
            execution_role_arn: str | None, task_id: str = "", region: str = "us-east-1") -> dict[str, str]:
    """Every secret's value by environment variable name, fetched with the execution role.

    `session_for_role(arn)` gives a boto3-like session acting as that role (its `client(
    service, region_name=...)` reaches the AWS the task runs in); `iam` reads the role's
    policies. TaskStartError with ECS's stoppedReason when a secret cannot be had.
    """
    items = list(secrets)
    if not items:
        return {}
    if not execution_role_arn:
        raise TaskStartError(NO_EXECUTION_ROLE)
    role = ExecutionRole(iam, execution_role_arn, task_id)
    role.documents()  # ECS assumes the role first: a missing or untrusting role fails here
    session = session_for_role(execution_role_arn)
    refs = [parse(s, region=region, account=role.account) for s in items]
    values: dict[str, str] = {}
    for ref in refs:
        if ref.source == "secretsmanager":
            values[ref.name] = _from_secrets_manager(ref, session)
    by_region: dict[str, list[SecretRef]] = {}
    for ref in refs:
        if ref.source == "ssm":
            by_region.setdefault(ref.region, []).append(ref)
    for ssm_region, group in by_region.items():
        values.update(_from_parameter_store(group, session.client("ssm", region_name=ssm_region)))
    # Keep the definition's order (a later duplicate name wins, as in an environment).
    return {ref.name: values[ref.name] for ref in refs}


def _error(exc: Any) -> tuple[str, str]:
    error = getattr(exc, "response", {}).get("Error", {})
    return error.get("Code", type(exc).__name__), error.get("Message", str(exc))


def _from_secrets_manager(ref: SecretRef, session: Any) -> str:
    client = session.client("secretsmanager", region_name=ref.region)
    fetch_failed = f"failed to fetch secret {ref.secret_id} from secrets manager: "
    kwargs: dict[str, str] = {"SecretId": ref.secret_id}
    if ref.version_stage:
        kwargs["VersionStage"] = ref.version_stage
    if ref.version_id:
        kwargs["VersionId"] = ref.version_id
    try:
        answer = client.get_secret_value(**kwargs)
    except Exception as exc:
        code, message = _error(exc)
        raise TaskStartError(f"{ASM}{fetch_failed}{code}: {message}") from None
    text = answer.get("SecretString")
    if text is None:
        text = (answer.get("SecretBinary") or b"").decode("utf-8", "replace")
    if not ref.json_key:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        first = text.strip()[:1] or " "
        raise TaskStartError(f"{ASM}invalid character '{first}' looking for beginning of value") from None
    if not isinstance(document, dict) or ref.json_key not in document:
        raise TaskStartError(f"{ASM}retrieved secret from Secrets Manager did not contain json key "
                             f"{ref.json_key}")
    return _go_text(document[ref.json_key])


def _go_text(value: Any) -> str:
    """A JSON value as the agent prints it (Go's %v of the decoded value)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "<nil>"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _from_parameter_store(refs: list[SecretRef], client: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    names = sorted({n for ref in refs for n in ref.parameter_names})
    for start in range(0, len(names), SSM_BATCH):
        try:
            answer = client.get_parameters(Names=names[start:start + SSM_BATCH], WithDecryption=True)
        except Exception as exc:
            code, message = _error(exc)
            raise TaskStartError(f"{SSM}{code}: {message}") from None
        for parameter in answer.get("Parameters", []):
            found[parameter["Name"]] = parameter["Value"]
    values: dict[str, str] = {}
    missing: list[str] = []
    for ref in refs:
        value = next((found[n] for n in ref.parameter_names if n in found), None)
        if value is None:
            missing.append(ref.secret_id)
        else:
            values[ref.name] = value
    if missing:
        raise TaskStartError(f"{SSM}invalid ssm parameters: {','.join(missing)}")
    return values
