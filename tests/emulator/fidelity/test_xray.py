"""X-Ray fidelity: the service graph is built from the segments sent."""
from __future__ import annotations

from mylearning.emulator.fidelity.cases.xray import send_two_services
from mylearning.emulator.fidelity.xray import build_service_graph


def test_service_graph_shape(env):
    import datetime

    front, back = env.name("web"), env.name("api")
    send_two_services(env, front, back)
    now = datetime.datetime.now(datetime.timezone.utc)
    graph = env.client("xray").get_service_graph(StartTime=now - datetime.timedelta(minutes=5), EndTime=now)
    services = {(s["Name"], s["Type"]): s for s in graph["Services"]}
    web = services[(front, "AWS::ECS::Container")]
    assert web["Root"] is True and web["State"] == "active"
    assert web["SummaryStatistics"]["TotalCount"] >= 1 and web["SummaryStatistics"]["OkCount"] >= 1
    client = services[(front, "client")]
    assert web["ReferenceId"] in [e["ReferenceId"] for e in client["Edges"]]
    edge = next(e for e in web["Edges"] if e["ReferenceId"] == services[(back, "AWS::ECS::Container")]["ReferenceId"])
    assert edge["SummaryStatistics"]["TotalCount"] == 1
    assert isinstance(edge["StartTime"], datetime.datetime)


def test_graph_counts_errors_faults_and_throttles():
    base = {"trace_id": "1-00000000-000000000000000000000000", "start_time": 100.0, "end_time": 101.0}
    docs = [{**base, "name": "svc", "id": "1", "http": {"response": {"status": 200}}},
            {**base, "name": "svc", "id": "2", "http": {"response": {"status": 404}}},
            {**base, "name": "svc", "id": "3", "fault": True},
            {**base, "name": "svc", "id": "4", "http": {"response": {"status": 429}}}]
    services = build_service_graph(docs, 0, 200, "123456789012")
    svc = next(s for s in services if s["Type"] == "service")
    stats = svc["SummaryStatistics"]
    assert stats["TotalCount"] == 4 and stats["OkCount"] == 1
    assert stats["ErrorStatistics"] == {"ThrottleCount": 1, "OtherCount": 1, "TotalCount": 2}
    assert stats["FaultStatistics"]["TotalCount"] == 1
    assert build_service_graph(docs, 500, 600, "123456789012") == []
