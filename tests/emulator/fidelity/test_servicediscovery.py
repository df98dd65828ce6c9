"""AWS Cloud Map fidelity: the table's cases (ListServices filters, namespaces per VPC)."""
from __future__ import annotations


def test_unfiltered_list_still_lists_everything(env):
    sd = env.client("servicediscovery")
    ec2 = env.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    names = set()
    for stem in ("x", "y"):
        op = sd.create_private_dns_namespace(Name=env.name(stem) + ".internal", Vpc=vpc)["OperationId"]
        namespace = sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        names.add(sd.create_service(Name=env.name(stem), NamespaceId=namespace)["Service"]["Name"])
    listed = {s["Name"] for s in sd.list_services()["Services"]}
    assert names <= listed
    owned = {s["Name"] for s in sd.list_services(Filters=[
        {"Name": "RESOURCE_OWNER", "Values": ["SELF"], "Condition": "EQ"}])["Services"]}
    assert names <= owned
    assert sd.list_services(Filters=[{"Name": "RESOURCE_OWNER", "Values": ["OTHER_ACCOUNTS"],
                                      "Condition": "EQ"}])["Services"] == []
