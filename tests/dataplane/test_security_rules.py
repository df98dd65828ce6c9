"""Security group decisions (pure): which rule lets which source in, and what stays out."""
from __future__ import annotations

from mylearning.dataplane.security import INTERNET, THE_INTERNET, UNKNOWN, Endpoint, allowed, rule_matches

ALL_OUT = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]


def _group(ingress, egress=ALL_OUT):
    return {"IpPermissions": ingress, "IpPermissionsEgress": egress}


def _tcp(low, high=None, cidr=None, group=None):
    rule = {"IpProtocol": "tcp", "FromPort": low, "ToPort": high if high is not None else low}
    if cidr:
        rule["IpRanges"] = [{"CidrIp": cidr}]
    if group:
        rule["UserIdGroupPairs"] = [{"GroupId": group}]
    return rule


def test_a_cidr_rule_admits_addresses_in_its_block_on_its_ports_only():
    rule = _tcp(8080, cidr="10.0.0.0/16")
    inside, outside = Endpoint("10.0.3.7"), Endpoint("10.1.0.1")
    assert rule_matches(rule, inside, 8080)
    assert not rule_matches(rule, inside, 8081)
    assert not rule_matches(rule, outside, 8080)
    assert rule_matches(_tcp(8000, 9000, cidr="0.0.0.0/0"), THE_INTERNET, 8443)


def test_protocols_all_traffic_matches_and_udp_or_icmp_never_match_a_tcp_connection():
    assert rule_matches({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, THE_INTERNET, 22)
    assert not rule_matches({"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
                             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, THE_INTERNET, 53)
    assert not rule_matches({"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
                             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, THE_INTERNET, 80)
    assert rule_matches({"IpProtocol": "6", "FromPort": 80, "ToPort": 80,
                         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, THE_INTERNET, 80)


def test_a_group_rule_admits_members_of_that_group_and_not_the_internet():
    rules = {"sg-tasks": _group([_tcp(8080, group="sg-alb")]), "sg-alb": _group([_tcp(80, cidr="0.0.0.0/0")])}
    task = Endpoint("10.0.3.7", frozenset({"sg-tasks"}))
    alb = Endpoint(None, frozenset({"sg-alb"}), networks=("10.0.1.0/24",))
    assert allowed(rules, alb, task, 8080)
    assert not allowed(rules, THE_INTERNET, task, 8080)
    assert allowed(rules, THE_INTERNET, alb, 80)
    assert not allowed(rules, THE_INTERNET, alb, 443)
    assert not allowed(rules, task, task, 8080)  # no rule names the tasks' own group


def test_any_rule_of_any_group_is_enough():
    rules = {"a": _group([]), "b": _group([_tcp(8080, cidr=f"{INTERNET}/32")])}
    assert allowed(rules, THE_INTERNET, Endpoint("10.0.3.7", frozenset({"a", "b"})), 8080)
    assert not allowed(rules, THE_INTERNET, Endpoint("10.0.3.7", frozenset({"a"})), 8080)


def test_the_sources_outbound_rules_must_allow_it_too():
    rules = {"in": _group([_tcp(8080, cidr="10.0.0.0/16")]),
             "closed-out": _group([], egress=[]),
             "out-443": _group([], egress=[_tcp(443, cidr="0.0.0.0/0")])}
    destination = Endpoint("10.0.3.7", frozenset({"in"}))
    assert not allowed(rules, Endpoint("10.0.4.4", frozenset({"closed-out"})), destination, 8080)
    assert not allowed(rules, Endpoint("10.0.4.4", frozenset({"out-443"})), destination, 8080)
    rules["in"]["IpPermissions"].append(_tcp(443, cidr="10.0.0.0/16"))
    assert allowed(rules, Endpoint("10.0.4.4", frozenset({"out-443"})), destination, 443)


def test_a_load_balancer_matches_a_cidr_rule_that_holds_its_whole_subnets():
    alb = Endpoint(None, frozenset({"sg-alb"}), networks=("10.0.1.0/24", "10.0.2.0/24"))
    assert rule_matches(_tcp(8080, cidr="10.0.0.0/16"), alb, 8080)
    assert not rule_matches(_tcp(8080, cidr="10.0.1.5/32"), alb, 8080)  # one address of many
    assert not rule_matches(_tcp(8080, cidr="192.168.0.0/16"), alb, 8080)


def test_what_ec2_does_not_describe_is_not_enforced():
    assert allowed({}, THE_INTERNET, UNKNOWN, 8080)
    assert allowed({}, THE_INTERNET, Endpoint("10.0.9.9", known=False), 8080)


def test_groups_ec2_did_not_describe_are_not_enforced_and_all_addresses_match_any_side():
    assert allowed({}, THE_INTERNET, Endpoint("10.0.3.7", frozenset({"sg-gone"})), 8080)
    alb = Endpoint(None, frozenset({"sg-alb"}))  # its subnets not known
    assert rule_matches(_tcp(8080, cidr="0.0.0.0/0"), alb, 8080)
