"""mylearning.observe: the SLO arithmetic, the service map and its drawing, each segment's own time,
the calls shown as boto3 code, and a Logs Insights query end to end."""
from __future__ import annotations

import json
import time

import pytest

from mylearning import knobs
from mylearning.observe import logs, shown, slo, traces
from mylearning.observe.table import Table

PNG = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- SLOs
def test_a_9999_slo_over_30_days_leaves_432_minutes():
    objective = slo.Objective("availability", 99.99)
    assert objective.budget == pytest.approx(0.0001)
    assert objective.budget_minutes() == pytest.approx(4.32)
    assert objective.budget_requests(10_000_000) == pytest.approx(1000)
    assert slo.Objective("a", 99.9, period_days=7).budget_minutes() == pytest.approx(10.08)


@pytest.mark.parametrize("target, days", [(100, 30), (0, 30), (-1, 30), (99.9, 0)])
def test_objectives_that_cannot_be_are_refused(target, days):
    with pytest.raises(ValueError):
        slo.Objective("x", target, period_days=days)


def test_the_workbook_windows_spend_2_and_5_percent_of_a_30_day_budget():
    fast, slow = slo.PAGE_WINDOWS
    assert fast.budget_share(30) == pytest.approx(0.02) and slow.budget_share(30) == pytest.approx(0.05)
    objective = slo.Objective("availability", 99.99)
    assert objective.threshold(fast) == pytest.approx(0.00144) and objective.threshold(slow) == pytest.approx(0.0006)


def test_burn_rate_alarms_are_one_metric_math_alarm_per_window():
    objective = slo.Objective("availability", 99.99)
    alarms = slo.burn_rate_alarms("ml-x", objective, "availability", "app/alb/1", tags=[{"Key": "k", "Value": "v"}])
    assert [a["AlarmName"] for a in alarms] == ["ml-x-slo-availability-1h", "ml-x-slo-availability-5m",
                                                "ml-x-slo-availability-6h", "ml-x-slo-availability-30m"]
    one_hour = alarms[0]
    stats = [q for q in one_hour["Metrics"] if "MetricStat" in q]
    assert {q["MetricStat"]["Period"] for q in stats} == {3600}
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in stats} == {"HTTPCode_Target_5XX_Count", "RequestCount"}
    (returned,) = [q for q in one_hour["Metrics"] if q.get("ReturnData")]
    assert returned["Expression"] == "FILL(errors, 0) / requests"
    assert one_hour["Threshold"] == pytest.approx(0.00144) and one_hour["Tags"] == [{"Key": "k", "Value": "v"}]
    latency = slo.bad_share_queries("latency", "app/alb/1", 300, latency_seconds=0.5)
    assert latency[0]["MetricStat"]["Stat"] == "PR(:0.5)" and latency[1]["Expression"] == "(100 - fast) / 100"
    with pytest.raises(ValueError):
        slo.bad_share_queries("throughput", "app/alb/1", 60)


def test_the_composite_rule_joins_each_alert_s_two_windows_with_and():
    rule = slo.composite_rule("p", slo.Objective("latency", 99.99))
    assert rule == ('(ALARM("p-slo-latency-1h") AND ALARM("p-slo-latency-5m")) OR '
                    '(ALARM("p-slo-latency-6h") AND ALARM("p-slo-latency-30m"))')
    from mylearning.emulator.fidelity.cloudwatch.alarm_rule import evaluate, parse
    tree = parse(rule)
    assert evaluate(tree, {"p-slo-latency-1h": "ALARM", "p-slo-latency-5m": "ALARM"}) is True
    assert evaluate(tree, {"p-slo-latency-1h": "ALARM", "p-slo-latency-30m": "ALARM"}) is False  # two different alerts


# ---------------------------------------------------------------- the service map
def _stats(total: int, faults: int, seconds: float) -> dict:
    return {"OkCount": total - faults, "TotalCount": total, "TotalResponseTime": seconds,
            "FaultStatistics": {"TotalCount": faults, "OtherCount": faults}, "ErrorStatistics": {"TotalCount": 0}}


def _graph() -> list[dict]:
    """A client calling a gateway proxy, which calls two nodes' proxies; one node is slow and failing,
    and a second client node carries a proxy's name (as X-Ray names some)."""
    return [
        {"ReferenceId": 0, "Name": "m/gw", "Type": "client", "Edges": [{"ReferenceId": 1, "SummaryStatistics": _stats(100, 0, 60.0)}]},
        {"ReferenceId": 1, "Name": "m/gw", "Type": "AWS::AppMesh::Proxy", "SummaryStatistics": _stats(100, 0, 60.0),
         "Edges": [{"ReferenceId": 2, "SummaryStatistics": _stats(50, 5, 55.0)},
                   {"ReferenceId": 3, "SummaryStatistics": _stats(50, 0, 1.0)}]},
        {"ReferenceId": 2, "Name": "m/slow", "Type": "AWS::AppMesh::Proxy", "SummaryStatistics": _stats(50, 5, 55.0),
         "Edges": [{"ReferenceId": 4, "SummaryStatistics": _stats(50, 5, 54.0)}]},
        {"ReferenceId": 3, "Name": "m/fast", "Type": "AWS::AppMesh::Proxy", "SummaryStatistics": _stats(50, 0, 1.0)},
        {"ReferenceId": 4, "Name": "slow", "Type": "AWS::ECS::Container", "SummaryStatistics": _stats(50, 5, 54.0),
         "Edges": [{"ReferenceId": 2, "SummaryStatistics": _stats(2, 0, 0.01)}]},   # back through its proxy
        {"ReferenceId": 5, "Name": "m/fast", "Type": "client", "Edges": [{"ReferenceId": 3, "SummaryStatistics": _stats(3, 0, 0.01)}]},
    ]


def test_the_service_map_keys_nodes_by_reference_and_leaves_clients_out_of_its_tables():
    graph = traces.ServiceMap(_graph())
    assert [n.name for n in graph.services()] == ["m/gw", "m/slow", "m/fast", "slow"]
    assert graph.edges() == [("m/gw", "m/fast"), ("m/gw", "m/slow"), ("m/slow", "slow"), ("slow", "m/slow")]
    assert graph.slowest() == "m/slow"   # 1.1 s a request; its service's 1.08 s is inside it
    rows = {r["service"]: r for r in graph.table()}
    assert rows["m/slow"]["fault %"] == 10.0 and rows["m/slow"]["mean ms"] == 1100.0
    assert rows["m/gw"]["calls"] == "m/fast, m/slow"
    layers = graph._layers()
    assert layers[0] == 0 and layers[1] == 1 and layers[2] == layers[3] == 2 and layers[4] == 3
    assert layers[5] == 1  # a minor client stands just left of what it calls


def test_the_service_map_draws_a_png_even_when_empty():
    assert traces.ServiceMap(_graph())._repr_png_().startswith(PNG)
    assert traces.ServiceMap([])._repr_png_().startswith(PNG)
    assert traces.ServiceMap([]).slowest() is None


# ---------------------------------------------------------------- where a trace's time went
class _XRay:
    def __init__(self, traces_by_id: dict[str, list[dict]]):
        self.traces = traces_by_id
        self.calls: list[list[str]] = []
        self.meta = type("Meta", (), {"service_model": type("Model", (), {"service_name": "xray"})})()

    def batch_get_traces(self, TraceIds):
        self.calls.append(list(TraceIds))
        return {"Traces": [{"Id": t, "Segments": [{"Document": json.dumps(d)} for d in self.traces[t]]}
                           for t in TraceIds if t in self.traces]}


class _Session:
    def __init__(self, client):
        self._client = client

    def client(self, name):
        return self._client


def _trace(slow_app: float) -> list[dict]:
    """gateway proxy (0-2.0) -> node proxy (0.1-1.9) -> app (0.2-1.8) calling an untraced host
    (1.0-1.5): the app's own time is 1.6 - 0.5."""
    return [{"id": "a", "name": "m/gw", "start_time": 0.0, "end_time": 2.0},
            {"id": "b", "parent_id": "a", "name": "m/node", "start_time": 0.1, "end_time": 1.9},
            {"id": "c", "parent_id": "b", "name": "app", "start_time": 0.2, "end_time": 0.2 + slow_app,
             "subsegments": [{"id": "d", "name": "db", "namespace": "remote", "start_time": 1.0, "end_time": 1.5}]}]


def test_time_by_service_subtracts_child_segments_and_untraced_calls():
    client = _XRay({f"t{i}": _trace(1.6) for i in range(7)})
    rows = traces.time_by_service(_Session(client), [f"t{i}" for i in range(7)] + ["t0"], show=False)
    assert [len(batch) for batch in client.calls] == [5, 2]   # five ids a call, each once
    by_name = {r["segment"]: r for r in rows}
    assert rows[0]["segment"] == "app"
    assert by_name["app"]["own ms"] == pytest.approx(1100.0) and by_name["app"]["waiting ms"] == pytest.approx(500.0)
    assert by_name["m/gw"]["own ms"] == pytest.approx(200.0) and by_name["m/node"]["own ms"] == pytest.approx(200.0)
    assert by_name["app"]["segments"] == 7


# ---------------------------------------------------------------- shown, tables, knobs
def test_calls_are_shown_as_boto3_code_and_long_values_are_cut():
    text = shown.render("logs", "start_query", logGroupNames=["/a"], queryString="x" * 1000)
    assert text.startswith("logs.start_query(\n    logGroupNames=['/a'],") and "...(cut)" in text
    assert shown.render("xray", "get_groups") == "xray.get_groups()"


def test_tables_show_as_html_and_text():
    table = Table([{"a": 1, "b": 2.123456}, {"a": "<x>"}], title="t")
    assert table[1] == {"a": "<x>"} and table.columns == ["a", "b"]
    assert "&lt;x&gt;" in table._repr_html_() and "<caption>t</caption>" in table._repr_html_()
    assert str(table).splitlines()[2].split() == ["1", "2.123"]


def test_knob_environment_is_set_and_removed_on_the_image_s_containers_only():
    spec = {"containerDefinitions": [
        {"name": "app", "image": "x/enrollment:1.1.0", "environment": [{"name": "ERROR_RATE", "value": "0.2"},
                                                                      {"name": "PORT", "value": "8080"}]},
        {"name": "envoy", "image": "x/aws-appmesh-envoy:v1", "environment": []}]}
    slowed = knobs.with_environment(spec, "/enrollment:", {"LATENCY_MS": 900, "ERROR_RATE": None})
    assert slowed["containerDefinitions"][0]["environment"] == [{"name": "PORT", "value": "8080"},
                                                                 {"name": "LATENCY_MS", "value": "900"}]
    assert slowed["containerDefinitions"][1]["environment"] == []
    assert spec["containerDefinitions"][0]["environment"][0]["name"] == "ERROR_RATE"  # the original untouched


# ---------------------------------------------------------------- Logs Insights end to end
def test_a_query_runs_to_completion_and_gives_rows(env, capsys):
    client = env.client("logs")
    group = f"/ecs/{env.name('observe')}"
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time())
    events = [{"timestamp": (now - 60 + i) * 1000, "message": json.dumps({"path": p, "status": s})}
              for i, (p, s) in enumerate([("/a", 500), ("/b", 500), ("/a", 503), ("/a", 200)])]
    client.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)

    session = type("S", (), {"client": lambda self, name: env.client(name)})()
    rows = logs.query(session, group, "filter status >= 500 | stats count(*) as n by path | sort n desc", now - 120)
    assert list(rows) == [{"path": "/a", "n": "2"}, {"path": "/b", "n": "1"}]
    assert "logs.start_query(" in capsys.readouterr().out and "3 of 4 log events matched" in rows.title
    with pytest.raises(ValueError):
        logs.query(session, group, "  ", now - 120)
    with pytest.raises(ValueError):
        logs.query(session, [], "fields @message", now - 120)
