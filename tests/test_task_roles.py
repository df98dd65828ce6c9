"""task_roles: each task role allows what its app calls and nothing more."""
from __future__ import annotations

import pytest

from mylearning import microservices, task_roles
from tests.fakes import OfflineSession


def test_app_permissions_are_scoped():
    from mylearning import roles
    for service in microservices.SERVICES:
        document = task_roles.app_permissions(OfflineSession(), service, "123456789012")
        assert not roles.broad_grants([("p", document)])
    with pytest.raises(KeyError):
        task_roles.app_permissions(OfflineSession(), "nope", "1")
