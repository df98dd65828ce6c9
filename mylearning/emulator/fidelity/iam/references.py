"""AWS IAM: what a call names must exist, and what it deletes must no longer be in use.

moto 5.2 deletes a managed policy that is still attached or still has other versions,
sets a permissions boundary to a policy that doesn't exist, and creates a role, user,
group or instance profile whose name differs from an existing one only by case.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.iam.access import SERVICE, iam_backend


def delete_conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message, 409)


@rule(SERVICE, "DeletePolicy")
def delete_only_a_detached_single_version_policy(req: AwsRequest) -> None:
    """A managed policy is deleted only once detached from every user, group and role and
    left with its default version alone.

    https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html ("Before you can
    delete a managed policy, you must first detach the policy from all users, groups, and roles
    that it is attached to. In addition, you must delete all the policy's versions"; "Delete
    the policy (this automatically deletes the policy's default version)"; Errors:
    DeleteConflict).
    """
    arn = req.params.get("PolicyArn")
    policy = iam_backend().managed_policies.get(arn) if isinstance(arn, str) else None
    if policy is None:
        return
    if getattr(policy, "attachment_count", 0) > 0:
        raise delete_conflict("Cannot delete a policy attached to entities.")
    if len(getattr(policy, "versions", []) or []) > 1:
        raise delete_conflict("This policy has more than one version. Before you delete a policy, "
                              "you must delete the policy's versions. The default version is "
                              "deleted with the policy.")


_BOUNDARY = ("PutRolePermissionsBoundary", "PutUserPermissionsBoundary", "CreateUser")


@rule(SERVICE, *_BOUNDARY)
def permissions_boundary_exists(req: AwsRequest) -> None:
    """A permissions boundary is a managed policy that exists.

    https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePermissionsBoundary.html
    (PermissionsBoundary: "The ARN of the managed policy that is used to set the permissions
    boundary"; Errors: NoSuchEntity, "The request was rejected because it referenced a resource
    entity that does not exist"); the same on API_PutUserPermissionsBoundary.html and
    API_CreateUser.html. AWS managed policies are made present first (``aws_policies``), so an
    unknown ``arn:aws:iam::aws:policy/...`` is one AWS doesn't have either. (CreateRole lists no
    NoSuchEntity error, so its boundary is left alone.)
    """
    arn = req.params.get("PermissionsBoundary")
    if not isinstance(arn, str) or not arn.startswith("arn:") or ":policy/" not in arn:
        return  # moto answers a boundary that is not a policy ARN itself (InvalidParameterValue)
    if arn not in iam_backend().managed_policies:
        raise AwsError("NoSuchEntity", f"Scope ARN: {arn} does not exist or is not attachable.", 404)


_NAMES = {"CreateRole": ("RoleName", "roles", "Role"), "CreateUser": ("UserName", "users", "User"),
          "CreateGroup": ("GroupName", "groups", "Group"),
          "CreateInstanceProfile": ("InstanceProfileName", "instance_profiles", "Instance Profile")}


@rule(SERVICE, *_NAMES)
def names_unique_regardless_of_case(req: AwsRequest) -> None:
    """Names of roles, users, groups and instance profiles are unique in the account, case
    not distinguished.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html ("Names of users,
    groups, roles, and instance profiles must be unique within the account. They are not
    distinguished by case, for example, you cannot create groups named both ADMINS and
    admins"); API_CreateRole.html, Errors: EntityAlreadyExists. moto refuses only the exact name.
    """
    key, attribute, label = _NAMES[req.operation]
    name = req.params.get(key)
    if not isinstance(name, str) or not name:
        return
    existing = [getattr(item, "name", None) for item in list(getattr(iam_backend(), attribute).values())]
    clash = next((other for other in existing if isinstance(other, str) and other != name
                  and other.lower() == name.lower()), None)
    if clash is not None:
        raise AwsError("EntityAlreadyExists", f"{label} with name {clash} already exists.", 409)
