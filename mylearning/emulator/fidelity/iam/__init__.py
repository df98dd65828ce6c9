"""AWS IAM: policy documents, quotas and references checked as AWS checks them; AWS managed
policies present.

The course's roles (``mylearning.roles``, ``mylearning.task_roles``): task execution and
task roles trusting ecs-tasks.amazonaws.com, AWS managed policies attached, inline policies
for the tasks' own permissions.

Parts, each small enough to be offered upstream to moto on its own:

* **AWS managed policies** (``aws_policies``): added to the account when a call names them.
* **Documents** (``documents``): trust policies well formed; identity-based policies
  without a Principal.
* **Quotas** (``quotas``): trust, managed and inline policy sizes; managed policies
  attached per role, user and group.
* **Enforcement** (``enforcement``): a role session's calls (credentials from AssumeRole)
  authorised against the role's policies and boundary.
* **References** (``references``): a managed policy deleted only when detached and left with
  one version; permissions boundaries that exist; names unique regardless of case.

Shared by them: ``access`` (moto's IAM state, policy sizes as IAM counts them).
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

# Order matters: AWS managed policies are made present before the rules that look policies up.
from mylearning.emulator.fidelity.iam import aws_policies as _aws_policies  # noqa: F401
from mylearning.emulator.fidelity.iam import documents as _documents  # noqa: F401
from mylearning.emulator.fidelity.iam import quotas as _quotas  # noqa: F401
from mylearning.emulator.fidelity.iam import references as _references  # noqa: F401
from mylearning.emulator.fidelity.iam import enforcement as _enforcement  # noqa: F401
from mylearning.emulator.fidelity.iam.aws_policies import ensure_aws_policy
from mylearning.emulator.fidelity.iam.documents import trust_policy_problem

__all__ = ["ensure_aws_policy", "trust_policy_problem"]
