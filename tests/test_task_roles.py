"""task_roles: each task role allows what its app calls and nothing more."""
from __future__ import annotations

import pytest

from mylearning import microservices, task_roles


class _Session:
    """Just what microservices needs without AWS: names and tags."""
    prefix, learner, region_name = "ml-t", "t", "us-east-1"

    def name(self, *parts):
        return "-".join(("ml-t",) + parts)

    def tags(self, lab, style="Key"):
        from mylearning import identity
        return identity.tag_list(lab, "t", style=style)


def test_app_permissions_are_scoped():
    from mylearning import roles
    for service in microservices.SERVICES:
        document = task_roles.app_permissions(_Session(), service, "123456789012")
        assert not roles.broad_grants([("p", document)])
    with pytest.raises(KeyError):
        task_roles.app_permissions(_Session(), "nope", "1")
