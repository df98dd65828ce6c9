"""AWS App Mesh: AWS's checks and error codes, and the virtual services moto lacks.

App Mesh ended on 2026-09-30, so the labs' mesh steps run only here; what a
learner learns about it must therefore match the API reference
(https://docs.aws.amazon.com/app-mesh/latest/APIReference/Welcome.html).

Parts, each small enough to be offered upstream to moto on its own:

* **moto fixes** (``fixes``: `_fix_metadata`, `_fix_error_codes`): per-resource uids and
  timestamps, epoch timestamps, mesh ARN and owner, AWS error codes. Applied on the
  first App Mesh call in the emulator process only, and each checks first whether
  moto still needs it.
* Enum values, lengths, ranges and patterns of the model are checked for every
  operation by the layer's model validation (``fidelity.validation``), before these.
* **Rules** (``rules``, ``@rule``): names taken, references to resources that do not
  exist, route weights, and deletes of resources still in use, answered with AWS's
  error codes; awsCloudMap without attributes.
* **Virtual services** (``virtual_services``, ``@handler``): the whole CRUD API, missing
  from moto 5.2.
* **Tags** (``tags``): ListTagsForResource, TagResource and UntagResource, for virtual
  services (kept here) and the resources moto keeps.

Shared by them: ``errors`` (AWS's error answers, moto's codes mapped to them) and
``access`` (the service's names, lazy access to moto's App Mesh state, the request
body, the virtual services we keep).

moto is imported lazily: importing this package (e.g. for the fidelity table)
leaves moto untouched.
"""
from __future__ import annotations

# Order matters: the rule that applies the moto fixes (registered for every App Mesh
# operation) first, then the rules for single operations; handlers last (one per
# operation, so their order is free).
from mylearning.emulator.fidelity.appmesh import fixes as _fixes  # noqa: F401
from mylearning.emulator.fidelity.appmesh import rules as _rules  # noqa: F401
from mylearning.emulator.fidelity.appmesh import virtual_services as _virtual_services  # noqa: F401
from mylearning.emulator.fidelity.appmesh import tags as _tags  # noqa: F401
