"""CloudWatch Logs fidelity cases: log group names, retention periods, tags, listing filters,
Logs Insights queries and metric filters."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"
INVALID = "InvalidParameterException"
COURSE_TAGS = {"course": "mylearning", "lab": "99", "learner": "alice"}


def _group_name(env: Env) -> str:
    return f"/ecs/mylearning-{env.name('f')}/catalog"


def _create(name: Callable[[Env], str] = _group_name, **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("logs").create_log_group(logGroupName=name(env), **args)
    return call


def _create_twice(env: Env) -> Any:
    logs, name = env.client("logs"), _group_name(env)
    logs.create_log_group(logGroupName=name)
    return logs.create_log_group(logGroupName=name)


def _retention(days: int, exists: bool = True) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        logs, name = env.client("logs"), _group_name(env)
        if exists:
            logs.create_log_group(logGroupName=name, tags=COURSE_TAGS)
        return logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    return call


def _tag(tags: dict[str, str]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        logs, name = env.client("logs"), _group_name(env)
        logs.create_log_group(logGroupName=name)
        arn = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["logGroupArn"]
        return logs.tag_resource(resourceArn=arn, tags=tags)
    return call


def _describe(**args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("logs").describe_log_groups(**args)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "validation") -> Case:
    doc = page if page.startswith("https://") else API + page
    return Case(f"logs.{id}", "logs", call, expect, doc, kind)


def _group_with_events(env: Env) -> str:
    """A log group holding one 503 and one 200 request line, as the course images log them."""
    import json
    import time

    logs, name = env.client("logs"), _group_name(env)
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="web")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=name, logStreamName="web", logEvents=[
        {"timestamp": now - 2000, "message": json.dumps({"path": "/courses", "status": 503})},
        {"timestamp": now - 1000, "message": json.dumps({"path": "/health", "status": 200})}])
    return name


def _query(text: str, both_parameters: bool = False) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        import time

        logs, name = env.client("logs"), _group_with_events(env)
        extra = {"logGroupNames": [name]} if both_parameters else {}
        now = int(time.time())
        query_id = logs.start_query(logGroupName=name, startTime=now - 3600, endTime=now + 60,
                                    queryString=text, **extra)["queryId"]
        return logs.get_query_results(queryId=query_id)
    return call


def _five_hundreds_by_route(env: Env) -> Any:
    """The lab's query: the 5xx by route. moto ignores filter and stats and returns every event."""
    answer = _query("filter status >= 500 | stats count(*) as errors by path")(env)
    rows = [{c["field"]: c["value"] for c in row} for row in answer.get("results", [])]
    if rows != [{"path": "/courses", "errors": "1"}]:
        raise BehaviourMismatch(f"the 5xx by route came back as {rows}")
    return answer


def _metric_filter(pattern: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        logs, name = env.client("logs"), _group_name(env)
        logs.create_log_group(logGroupName=name)
        return logs.put_metric_filter(logGroupName=name, filterName="errors", filterPattern=pattern,
                                      metricTransformations=[{"metricName": "Errors", "metricValue": "1",
                                                              "metricNamespace": "MyLearning/Fidelity"}])
    return call


def _test_metric_filter(env: Env) -> Any:
    found = env.client("logs").test_metric_filter(filterPattern="{ $.status >= 500 }",
                                                  logEventMessages=['{"status": 503}', '{"status": 200}'])
    if [m["eventNumber"] for m in found["matches"]] != [1]:
        raise BehaviourMismatch(f"TestMetricFilter matched {found['matches']}")
    return found


CREATE, RETENTION = "API_CreateLogGroup.html", "API_PutRetentionPolicy.html"

CASES = [
    _case("retention.2-days", _retention(2), INVALID, RETENTION),
    _case("retention.31-days", _retention(31), INVALID, RETENTION),
    _case("retention.0-days", _retention(0), INVALID, RETENTION),
    _case("retention.valid-30-days", _retention(30), OK, RETENTION),
    _case("retention.valid-1096-days", _retention(1096), OK, RETENTION),
    _case("retention.valid-3653-days", _retention(3653), OK, RETENTION),
    _case("retention.missing-group", _retention(30, exists=False), "ResourceNotFoundException", RETENTION),
    _case("create.name-with-space", _create(lambda env: f"/ecs/{env.name('my app')}"), INVALID, CREATE),
    _case("create.name-with-colon", _create(lambda env: f"/ecs/{env.name('app')}:web"), INVALID, CREATE),
    _case("create.name-starts-with-aws", _create(lambda env: f"aws/{env.name('app')}"), INVALID, CREATE),
    _case("create.name-513-characters", _create(lambda env: env.name("g") + "a" * 503), INVALID, CREATE),
    _case("create.valid-ecs-name-with-tags", _create(tags=COURSE_TAGS), OK, CREATE),
    _case("create.valid-name-with-number-sign", _create(lambda env: f"/app/{env.name('svc')}#1"), OK, CREATE),
    _case("create.duplicate-name", _create_twice, "ResourceAlreadyExistsException", CREATE),
    _case("create.tag-key-with-bang", _create(tags={"course!": "mylearning"}), INVALID, CREATE),
    _case("create.tag-value-with-quote", _create(tags={"course": "my'learning"}), INVALID, CREATE),
    _case("create.51-tags", _create(tags={f"k{i}": "v" for i in range(51)}), INVALID, CREATE),
    _case("create.valid-50-tags", _create(tags={f"k{i}": "v" for i in range(50)}), OK, CREATE),
    _case("create.valid-tags-with-colon-and-space", _create(tags={"team:owner": "Platform Team"}), OK, CREATE),
    _case("tag-resource.key-with-bang", _tag({"owner!": "x"}), INVALID, "API_TagResource.html"),
    _case("tag-resource.valid", _tag({"owner": "platform"}), OK, "API_TagResource.html"),
    _case("describe.prefix-and-pattern", _describe(logGroupNamePrefix="/ecs", logGroupNamePattern="catalog"),
          INVALID, "API_DescribeLogGroups.html"),
    _case("describe.valid-prefix", _describe(logGroupNamePrefix="/ecs"), OK, "API_DescribeLogGroups.html"),
    _case("describe.valid-pattern", _describe(logGroupNamePattern="catalog"), OK, "API_DescribeLogGroups.html"),
    _case("insights.5xx-by-route", _five_hundreds_by_route, OK, "https://docs.aws.amazon.com/AmazonCloudWatch/"
          "latest/logs/CWL_QuerySyntax-Stats.html", kind="behaviour"),
    _case("insights.malformed-query", _query("filter status >"), "MalformedQueryException", "API_StartQuery.html"),
    _case("insights.group-name-and-names", _query("fields @message", both_parameters=True), INVALID,
          "API_StartQuery.html"),
    _case("insights.valid-fields-query", _query("fields @timestamp, @message | limit 5"), OK, "API_StartQuery.html"),
    _case("metric-filter.unreadable-pattern", _metric_filter("{ $.status >= }"), INVALID, "API_PutMetricFilter.html"),
    _case("metric-filter.valid-json-pattern", _metric_filter("{ $.status >= 500 }"), OK, "API_PutMetricFilter.html"),
    _case("test-metric-filter.json-pattern", _test_metric_filter, OK, "API_TestMetricFilter.html", kind="behaviour"),
]
