"""mylearning.dataplane.secrets: secrets reach a container only with the execution role's permission."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from mylearning import roles
from mylearning.dataplane import secrets
from mylearning.dataplane.errors import TaskStartError
from mylearning.facts.ecs import EXECUTION_POLICY_ARN

ACCOUNT = "123456789012"
TASK = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


class RoleSession:
    """A boto3 session acting as a role, on the test emulator (credentials from its STS)."""

    def __init__(self, url: str, role_arn: str):
        sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=TASK)["Credentials"]
        self.url, self.creds = url, creds
        self.assumed = []

    def client(self, service: str, region_name: str):
        self.assumed.append(service)
        return boto3.client(service, endpoint_url=self.url, region_name=region_name,
                            aws_access_key_id=self.creds["AccessKeyId"],
                            aws_secret_access_key=self.creds["SecretAccessKey"],
                            aws_session_token=self.creds["SessionToken"])


@pytest.fixture
def aws(emulator):
    kw = dict(endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test")
    tag = uuid.uuid4().hex[:8]
    iam, sm, ssm = (boto3.client(s, **kw) for s in ("iam", "secretsmanager", "ssm"))
    db = sm.create_secret(Name=f"ml-{tag}/db", SecretString=json.dumps(
        {"username": "app", "password": "s3cret", "port": 5432, "tls": True}))
    api = sm.create_secret(Name=f"ml-{tag}/api-key", SecretString="plain-key")
    ssm.put_parameter(Name=f"/ml-{tag}/feature", Value="on", Type="String")
    ssm.put_parameter(Name=f"/ml-{tag}/token", Value="tok-123", Type="SecureString")
    ssm.put_parameter(Name=f"ml-{tag}-flat", Value="flat", Type="String")

    def role(*statements, managed=True, trust=True):
        name = f"exec-{tag}-{uuid.uuid4().hex[:4]}"
        trust_doc = roles.trust_policy() if trust else roles.trust_policy("ec2.amazonaws.com")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_doc))["Role"]["Arn"]
        if managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=EXECUTION_POLICY_ARN)
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="secrets",
                                PolicyDocument=json.dumps(roles.policy(*statements)))
        return arn

    def resolve(items, role_arn):
        return secrets.resolve(items, session_for_role=lambda arn: RoleSession(emulator.url, arn), iam=iam,
                               execution_role_arn=role_arn, task_id=TASK, region="us-east-1")

    return {"tag": tag, "db": db["ARN"], "api": api["ARN"], "role": role, "resolve": resolve,
            "param_arn": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ml-{tag}/feature"}


def test_secrets_manager_forms_and_parameter_store(aws):
    tag, db = aws["tag"], aws["db"]
    role = aws["role"](roles.allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:*:*:secret:ml-{tag}/*"),
                       roles.allow("ssm:GetParameters", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ml-{tag}*"))
    partial = db.rsplit("-", 1)[0]  # without Secrets Manager's six random characters
    got = aws["resolve"]([
        {"name": "DB_JSON", "valueFrom": db},
        {"name": "DB_USER", "valueFrom": f"{db}:username::"},
        {"name": "DB_PASSWORD", "valueFrom": f"{partial}:password:AWSCURRENT:"},
        {"name": "DB_PORT", "valueFrom": f"{db}:port::"},
        {"name": "DB_TLS", "valueFrom": f"{db}:tls::"},
        {"name": "API_KEY", "valueFrom": aws["api"]},
        {"name": "FEATURE", "valueFrom": f"/ml-{tag}/feature"},
        {"name": "FEATURE_BY_ARN", "valueFrom": aws["param_arn"]},
        {"name": "TOKEN", "valueFrom": f"/ml-{tag}/token"},
        {"name": "FLAT", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ml-{tag}-flat"},
    ], role)
    assert got == {"DB_JSON": json.dumps({"username": "app", "password": "s3cret", "port": 5432, "tls": True}),
                   "DB_USER": "app", "DB_PASSWORD": "s3cret", "DB_PORT": "5432", "DB_TLS": "true",
                   "API_KEY": "plain-key", "FEATURE": "on", "FEATURE_BY_ARN": "on", "TOKEN": "tok-123",
                   "FLAT": "flat"}


def test_without_permission_the_task_does_not_start(aws):
    role = aws["role"]()  # only AmazonECSTaskExecutionRolePolicy: no secrets
    name = role.rsplit("/", 1)[1]
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "DB", "valueFrom": aws["db"]}], role)
    assert caught.value.reason == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
        f"secret {aws['db']} from secrets manager: AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:"
        f"assumed-role/{name}/{TASK} is not authorized to perform: secretsmanager:GetSecretValue on resource: "
        f"{aws['db']} because no identity-based policy allows the secretsmanager:GetSecretValue action")
    assert caught.value.stop_code == "TaskFailedToStart"
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "F", "valueFrom": f"/ml-{aws['tag']}/feature"}], role)
    assert caught.value.reason == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
        f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{TASK} is not authorized to "
        f"perform: ssm:GetParameters on resource: {aws['param_arn']} because no identity-based policy allows "
        "the ssm:GetParameters action")


def test_an_explicit_deny_wins(aws):
    role = aws["role"](roles.allow("secretsmanager:GetSecretValue", "*"),
                       {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": aws["db"]})
    assert aws["resolve"]([{"name": "K", "valueFrom": aws["api"]}], role) == {"K": "plain-key"}
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "DB", "valueFrom": aws["db"]}], role)
    assert caught.value.reason.endswith("with an explicit deny in an identity-based policy")


def test_missing_secret_parameter_and_json_key(aws):
    tag = aws["tag"]
    role = aws["role"](roles.allow(["secretsmanager:GetSecretValue", "ssm:GetParameters"], "*"))
    gone = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ml-{tag}/nope-AbCdEf"
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "X", "valueFrom": gone}], role)
    assert caught.value.reason == (
        secrets.ASM + f"failed to fetch secret {gone} from secrets manager: ResourceNotFoundException: "
        "Secrets Manager can't find the specified secret.")
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "X", "valueFrom": f"{aws['db']}:hostname::"}], role)
    assert caught.value.reason == secrets.ASM + "retrieved secret from Secrets Manager did not contain json key hostname"
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "X", "valueFrom": f"{aws['api']}:key::"}], role)
    assert caught.value.reason.startswith(secrets.ASM + "invalid character 'p'")
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "A", "valueFrom": f"/ml-{tag}/feature"},
                        {"name": "B", "valueFrom": f"/ml-{tag}/absent"},
                        {"name": "C", "valueFrom": f"/ml-{tag}/also-absent"}], role)
    assert caught.value.reason == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        f"failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm "
        f"parameters: /ml-{tag}/absent,/ml-{tag}/also-absent")


def test_no_role_or_an_unusable_role(aws):
    item = [{"name": "DB", "valueFrom": aws["db"]}]
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"](item, None)
    assert caught.value.reason == secrets.NO_EXECUTION_ROLE
    assert aws["resolve"]([], None) == {}  # no secrets, no role needed
    for arn in (f"arn:aws:iam::{ACCOUNT}:role/does-not-exist", aws["role"](trust=False)):
        with pytest.raises(TaskStartError) as caught:
            aws["resolve"](item, arn)
        assert caught.value.reason.startswith(f"ECS was unable to assume the role '{arn}'")


def test_many_parameters_are_fetched_in_batches_of_ten(aws, emulator):
    tag = aws["tag"]
    ssm = boto3.client("ssm", endpoint_url=emulator.url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    for i in range(23):
        ssm.put_parameter(Name=f"/ml-{tag}/p{i}", Value=str(i), Type="String")
    role = aws["role"](roles.allow("ssm:GetParameters", "*"))
    got = aws["resolve"]([{"name": f"P{i}", "valueFrom": f"/ml-{tag}/p{i}"} for i in range(23)], role)
    assert got == {f"P{i}": str(i) for i in range(23)}


def test_parse_value_from():
    ref = secrets.parse({"name": "N", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111:secret:db-AbCdEf:user:AWSPREVIOUS:"},
                        region="us-east-1", account="222")
    assert (ref.source, ref.region, ref.account, ref.secret_id, ref.json_key, ref.version_stage, ref.version_id) == (
        "secretsmanager", "eu-west-1", "111", "arn:aws:secretsmanager:eu-west-1:111:secret:db-AbCdEf", "user",
        "AWSPREVIOUS", "")
    name = secrets.parse({"name": "N", "valueFrom": "/app/db"}, region="us-east-1", account="222")
    assert (name.source, name.parameter_arn) == ("ssm", "arn:aws:ssm:us-east-1:222:parameter/app/db")
    arn = secrets.parse({"name": "N", "valueFrom": "arn:aws:ssm:eu-west-1:111:parameter/db"}, region="us-east-1",
                        account="222")
    assert (arn.region, arn.parameter_names) == ("eu-west-1", ["db", "/db"])


def test_a_secret_under_a_customer_managed_key_needs_kms_decrypt(aws, emulator):
    """secrets-envvar-secrets-manager.html: "If your secret uses a custom KMS key ... add kms:Decrypt"."""
    from mylearning import task_roles
    kw = dict(endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test")
    kms, sm = boto3.client("kms", **kw), boto3.client("secretsmanager", **kw)
    key = kms.create_key(Description="db secrets")["KeyMetadata"]
    secret = sm.create_secret(Name=f"ml-{aws['tag']}/cmk", SecretString=json.dumps({"password": "pw"}),
                              KmsKeyId=key["Arn"])["ARN"]
    wanted = [{"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"}]
    only_secret = aws["role"](*task_roles.execution_permissions(secret)["Statement"])
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"](wanted, only_secret)
    assert caught.value.reason == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
        f"secret {secret} from secrets manager: AccessDeniedException: Access to KMS is not allowed")
    both = aws["role"](*task_roles.execution_permissions(secret, key["Arn"])["Statement"])
    assert aws["resolve"](wanted, both) == {"DB_PASSWORD": "pw"}
    # Exactly those ARNs: another secret under the same key is still refused, on the secret.
    other = sm.create_secret(Name=f"ml-{aws['tag']}/cmk-other", SecretString="x", KmsKeyId=key["Arn"])["ARN"]
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "X", "valueFrom": other}], both)
    assert "is not authorized to perform: secretsmanager:GetSecretValue on resource: " + other in caught.value.reason
    # A disabled key decrypts for nobody.
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"](wanted, both)
    assert caught.value.reason.endswith(
        f"failed to fetch secret {secret} from secrets manager: DecryptionFailure: Secrets Manager can't decrypt "
        "the protected secret text using the provided KMS key.")


def test_a_secure_string_under_a_customer_managed_key_needs_kms_decrypt(aws, emulator):
    kw = dict(endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test")
    key = boto3.client("kms", **kw).create_key(Description="settings")["KeyMetadata"]["Arn"]
    name = f"/ml-{aws['tag']}/cmk-token"
    boto3.client("ssm", **kw).put_parameter(Name=name, Value="tok-cmk", Type="SecureString", KeyId=key)
    read = roles.allow("ssm:GetParameters", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ml-{aws['tag']}/*")
    role = aws["role"](read)
    with pytest.raises(TaskStartError) as caught:
        aws["resolve"]([{"name": "TOKEN", "valueFrom": name}], role)
    assert caught.value.reason == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
        f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/{TASK} is not "
        f"authorized to perform: kms:Decrypt on resource: {key} because no identity-based policy allows the "
        "kms:Decrypt action")
    role = aws["role"](read, roles.allow("kms:Decrypt", key))
    assert aws["resolve"]([{"name": "TOKEN", "valueFrom": name}], role) == {"TOKEN": "tok-cmk"}
