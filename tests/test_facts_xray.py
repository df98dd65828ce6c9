"""mylearning.facts.xray (tracing part): the X-Amzn-Trace-Id header and the flags of a status, without I/O."""
from __future__ import annotations

import pytest

from mylearning.facts import iam
from mylearning.facts import xray as tracing

ROOT = "1-5759e988-bd862e3fe1be46a994272793"


def test_the_three_fields_are_read_in_any_order_and_case():
    header = tracing.parse_header(f"Sampled=1;parent=53995c3f42cd8ad8; root={ROOT}")
    assert (header.root, header.parent, header.sampled) == (ROOT, "53995c3f42cd8ad8", True)
    assert tracing.parse_header(f"Root={ROOT};Sampled=0").sampled is False


@pytest.mark.parametrize("value", ["", None, "garbage", f"Root={ROOT};Sampled=?", f"Root={ROOT};Sampled=yes"])
def test_without_a_decision_sampled_is_none(value):
    assert tracing.parse_header(value).sampled is None


def test_a_malformed_root_drops_the_parent_too_so_the_receiver_starts_its_own_trace():
    header = tracing.parse_header("Root=1-xyz;Parent=53995c3f42cd8ad8;Sampled=1")
    assert header.root is None and header.parent is None and header.sampled is True
    assert tracing.parse_header(f"Root={ROOT};Parent=short").parent is None


def test_the_albs_self_field_is_read_but_not_passed_on_and_other_fields_are():
    header = tracing.parse_header(f"Self=1-67891234-12456789abcdef012345678;Root={ROOT};CalledFrom=app")
    assert header.root == ROOT
    assert header.render() == f"Root={ROOT};CalledFrom=app"


def test_render_round_trips():
    header = tracing.TraceHeader(ROOT, "53995c3f42cd8ad8", False)
    assert header.render() == f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=0"
    assert tracing.parse_header(header.render()) == header


@pytest.mark.parametrize("status, flags", [(200, {}), (302, {}), (404, {"error": True}),
                                           (429, {"error": True, "throttle": True}), (500, {"fault": True}),
                                           (503, {"fault": True})])
def test_error_flags_follow_the_status_class(status, flags):
    assert tracing.error_flags(status) == flags


def test_the_proxys_segments_are_named_mesh_slash_resource():
    assert tracing.envoy_segment_name("shop", "front") == "shop/front"


def test_the_daemons_permission_allows_put_trace_segments():
    policy = [("p", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(tracing.DAEMON_ACTIONS), "Resource": "*"}]})]
    assert iam.decide(policy, tracing.PUT_ACTION, "*") == iam.ALLOW
