"""ECS's BLUE_GREEN, LINEAR and CANARY deployments on a real emulator and data plane, whose
clock runs 60 times faster (MYLEARNING_TIME_SCALE=60: a one-minute bake takes one second).

Every wait polls with a generous deadline; nothing asserts how fast it was.
"""
from __future__ import annotations

import math

import pytest

from conftest import EmulatorProcess
from tests.dataplane.test_alb import AlbWorld
from tests.dataplane.world import wait_for

V1 = "public.ecr.aws/mylearning/courses-api:1.1.0"
V2 = "public.ecr.aws/mylearning/courses-api:1.2.0"
DEADLINE = 60.0


@pytest.fixture(scope="module")
def emulator():
    emu = EmulatorProcess(env={"MYLEARNING_TIME_SCALE": "60"})
    yield emu
    emu.stop()


class BlueGreenWorld(AlbWorld):
    """An ALB with a production listener (port 80) and a test listener (port 8080), each with
    a rule that forwards to the blue group (weight 100) and the green group (weight 0)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.blue, self.green = self.group("blue", interval=5), self.group("green", interval=5)
        split = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": self.blue, "Weight": 100}, {"TargetGroupArn": self.green, "Weight": 0}]}}]
        fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
        self.prod_listener = self.listener(fixed, port=80)
        self.test_listener = self.listener(fixed, port=8080)
        self.prod_rule = self.elb.create_rule(
            ListenerArn=self.prod_listener, Priority=1, Actions=split,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}])["Rules"][0]["RuleArn"]
        self.test_rule = self.elb.create_rule(
            ListenerArn=self.test_listener, Priority=1, Actions=split,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}])["Rules"][0]["RuleArn"]
        self.v1 = self.register(self.container(image=V1), family="api")
        self.v2 = self.register(self.container(image=V2), family="api")

    def create(self, config: dict, count: int = 2) -> None:
        self.ecs.create_service(
            cluster="c", serviceName="s", taskDefinition=self.v1, desiredCount=count,
            launchType="FARGATE", networkConfiguration=self.network,
            deploymentConfiguration=config,
            loadBalancers=[{"targetGroupArn": self.blue, "containerName": "app", "containerPort": 8080,
                            "advancedConfiguration": {
                                "alternateTargetGroupArn": self.green,
                                "productionListenerRule": self.prod_rule,
                                "testListenerRule": self.test_rule,
                                "roleArn": "arn:aws:iam::123456789012:role/ecs-infrastructure"}}])
        wait_for("the first deployment to succeed",
                 lambda: self.deployments()[0]["status"] == "SUCCESSFUL", timeout=DEADLINE)

    def deployments(self) -> list[dict]:
        briefs = self.ecs.list_service_deployments(cluster="c", service="s")["serviceDeployments"]
        if not briefs:
            return []
        return self.ecs.describe_service_deployments(
            serviceDeploymentArns=[b["serviceDeploymentArn"] for b in briefs])["serviceDeployments"]

    def latest(self) -> dict:
        return self.deployments()[0]

    def deploy(self) -> dict:
        self.ecs.update_service(cluster="c", service="s", taskDefinition=self.v2)
        return self.latest()

    def weights(self, rule: str) -> dict[str, int]:
        found = self.elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]
        return {g["TargetGroupArn"]: g["Weight"] for g in found["ForwardConfig"]["TargetGroups"]}

    def stages_until(self, done, timeout: float = DEADLINE) -> tuple[list[str], dict]:
        """The lifecycle stages seen (in order, without repeats) until `done(deployment)`."""
        seen: list[str] = []

        def probe():
            latest = self.latest()
            stage = latest.get("lifecycleStage")
            if stage and (not seen or seen[-1] != stage):
                seen.append(stage)
            return latest if done(latest) else None
        return seen, wait_for("the deployment to finish", probe, timeout=timeout, every=0.01)

    def version_of_answers(self, count: int, port: int = 80) -> list[str]:
        host = self.dns if port == 80 else f"{self.dns}:{port}"
        return [self.request("/api/courses", host=host)[1].get("X-MyLearning-Version") for _ in range(count)]

    def events(self) -> list[str]:
        return [e["message"] for e in self.service()["events"]]


@pytest.fixture
def world(emulator):
    emulator.reset()
    return BlueGreenWorld(emulator.url)


def _finished(deployment: dict) -> bool:
    return deployment["status"] not in ("PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")


def test_blue_green_goes_through_the_stages_and_swaps_the_target_groups(world):
    world.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    first = world.latest()
    assert first["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    world.deploy()
    stages, done = world.stages_until(_finished)
    assert done["status"] == "SUCCESSFUL", done
    assert stages[-1] == "CLEAN_UP"
    order = ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
             "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    assert [s for s in order if s in stages] == stages, stages  # never out of order
    assert {"SCALE_UP", "BAKE_TIME", "CLEAN_UP"} <= set(stages)
    assert world.weights(world.prod_rule) == {world.blue: 0, world.green: 1}
    assert world.weights(world.test_rule) == {world.blue: 0, world.green: 1}
    # The old revision's tasks are gone; the new ones are targets of the green group only.
    wait_for("one deployment left", lambda: len(world.service()["deployments"]) == 1, timeout=DEADLINE)
    tasks = world.service_tasks()
    assert {t["taskDefinitionArn"] for t in tasks} == {world.v2}
    revision = world.ecs.describe_service_revisions(
        serviceRevisionArns=[done["targetServiceRevision"]["arn"]])["serviceRevisions"][0]
    assert revision["taskDefinition"] == world.v2
    assert revision["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"] == world.green
    assert done["sourceServiceRevisions"][0]["arn"] == first["targetServiceRevision"]["arn"]
    assert any(e.endswith("deployment completed.") for e in world.events())
    # The next deployment goes the other way: its tasks start in the blue group.
    world.ecs.update_service(cluster="c", service="s", taskDefinition=world.v1)
    _, again = world.stages_until(_finished)
    assert again["status"] == "SUCCESSFUL"
    assert world.weights(world.prod_rule) == {world.green: 0, world.blue: 1}


def test_linear_moves_production_traffic_in_steps(world):
    world.create({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 40.0, "stepBakeTimeInMinutes": 1}})
    world.deploy()
    weights_seen: list[float] = []

    def probe():
        latest = world.latest()
        weight = latest["targetServiceRevision"].get("requestedProductionTrafficWeight")
        if weight is not None and (not weights_seen or weights_seen[-1] != weight):
            weights_seen.append(weight)
        return latest if _finished(latest) else None
    done = wait_for("the linear deployment to finish", probe, timeout=DEADLINE, every=0.01)
    assert done["status"] == "SUCCESSFUL"
    assert weights_seen[-1] == 100.0
    assert 40.0 in weights_seen and 80.0 in weights_seen, weights_seen
    assert weights_seen == sorted(weights_seen)


def test_canary_splits_real_traffic_at_its_percent_then_moves_it_all(world):
    world.create({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 20.0,
                                                                 "canaryBakeTimeInMinutes": 20}})
    assert set(world.version_of_answers(10)) == {"1.1.0"}
    world.deploy()
    wait_for("the canary step", lambda: world.weights(world.prod_rule) == {world.blue: 80, world.green: 20},
             timeout=DEADLINE)
    # The load balancers read the rules through the API, as a client: wait until they route by
    # the new weights (a first answer of the new revision on the production listener), then
    # count. The test listener already sends everything to the new revision.
    wait_for("the ALB to route by the new weights",
             lambda: "1.2.0" in world.version_of_answers(5), timeout=DEADLINE, every=0.01)
    assert set(world.version_of_answers(10, port=8080)) == {"1.2.0"}
    n = 400
    answers = world.version_of_answers(n)
    assert set(answers) <= {"1.1.0", "1.2.0"}, set(answers)
    canary = answers.count("1.2.0")
    # Binomial(400, 0.2): mean 80, sd 8; 5 sd either side fails one run in millions.
    assert abs(canary - 0.2 * n) <= 5 * math.sqrt(n * 0.2 * 0.8), canary
    assert world.latest()["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    stages, done = world.stages_until(_finished)
    assert done["status"] == "SUCCESSFUL"
    assert world.weights(world.prod_rule) == {world.blue: 0, world.green: 1}
    wait_for("all traffic on the new revision", lambda: set(world.version_of_answers(30)) == {"1.2.0"},
             timeout=DEADLINE)


def test_an_alarm_in_alarm_rolls_production_traffic_back(world):
    cw = world.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="api-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    world.create({"strategy": "CANARY", "bakeTimeInMinutes": 30,
                  "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 30},
                  "alarms": {"alarmNames": ["api-5xx"], "enable": True, "rollback": True}})
    world.deploy()
    wait_for("the canary step", lambda: world.weights(world.prod_rule)[world.green] == 10, timeout=DEADLINE)
    assert world.latest()["alarms"]["status"] == "MONITORING"
    cw.set_alarm_state(AlarmName="api-5xx", StateValue="ALARM", StateReason="test: errors")
    done = wait_for("the rollback", lambda: (lambda d: d if _finished(d) else None)(world.latest()),
                    timeout=DEADLINE)
    assert done["status"] == "ROLLBACK_SUCCESSFUL", done
    assert done["alarms"]["status"] == "TRIGGERED"
    assert done["alarms"]["triggeredAlarmNames"] == ["api-5xx"]
    assert done["rollback"]["serviceRevisionArn"] == done["sourceServiceRevisions"][0]["arn"]
    assert "api-5xx" in done["rollback"]["reason"]
    assert world.weights(world.prod_rule) == {world.blue: 1, world.green: 0}
    events = world.events()
    assert any(e.endswith("deployment failed: alarm detected.") for e in events), events
    assert any("rolling back to deployment" in e for e in events), events
    service = world.service()
    assert service["taskDefinition"] == world.v1
    wait_for("all traffic back on the old revision",
             lambda: set(world.version_of_answers(20)) == {"1.1.0"}, timeout=DEADLINE)


def test_stop_service_deployment_rolls_back_and_only_once(world):
    world.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 60})
    running = world.deploy()
    wait_for("the bake", lambda: world.latest()["lifecycleStage"] == "BAKE_TIME", timeout=DEADLINE)
    world.ecs.stop_service_deployment(serviceDeploymentArn=running["serviceDeploymentArn"], stopType="ROLLBACK")
    done = wait_for("the rollback", lambda: (lambda d: d if _finished(d) else None)(world.latest()),
                    timeout=DEADLINE)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert world.weights(world.prod_rule) == {world.blue: 1, world.green: 0}
    with pytest.raises(world.ecs.exceptions.ConflictException):
        world.ecs.stop_service_deployment(serviceDeploymentArn=running["serviceDeploymentArn"])
    with pytest.raises(world.ecs.exceptions.InvalidParameterException):
        world.ecs.stop_service_deployment(serviceDeploymentArn=running["serviceDeploymentArn"], stopType="ABORT")
    with pytest.raises(world.ecs.exceptions.ServiceDeploymentNotFoundException):
        world.ecs.stop_service_deployment(serviceDeploymentArn=running["serviceDeploymentArn"] + "x")


def test_a_pause_hook_waits_until_continued(world):
    hook = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 1440, "action": "ROLLBACK"}}
    world.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [hook]})
    world.deploy()
    paused = wait_for("the hook to wait", lambda: (lambda d: d if d.get("lifecycleHookDetails") else None)(
        world.latest()), timeout=DEADLINE)
    detail = paused["lifecycleHookDetails"][0]
    assert detail["status"] == "AWAITING_ACTION" and detail["targetType"] == "PAUSE"
    assert detail["timeoutAction"] == "ROLLBACK" and "expiresAt" in detail
    assert paused["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert world.weights(world.prod_rule) == {world.blue: 100, world.green: 0}  # not yet shifted
    assert world.weights(world.test_rule) == {world.blue: 0, world.green: 1}
    arn = paused["serviceDeploymentArn"]
    world.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=detail["hookId"], action="CONTINUE")
    _, done = world.stages_until(_finished)
    assert done["status"] == "SUCCESSFUL"
    assert done["lifecycleHookDetails"][0]["status"] == "SUCCEEDED"
    with pytest.raises(world.ecs.exceptions.ConflictException):
        world.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=detail["hookId"])


def test_a_pause_hook_answered_rollback_and_a_lambda_hook_roll_back(world):
    pause = {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}
    world.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [pause]})
    world.deploy()
    paused = wait_for("the hook to wait", lambda: (lambda d: d if d.get("lifecycleHookDetails") else None)(
        world.latest()), timeout=DEADLINE)
    world.ecs.continue_service_deployment(serviceDeploymentArn=paused["serviceDeploymentArn"],
                                          hookId=paused["lifecycleHookDetails"][0]["hookId"], action="ROLLBACK")
    done = wait_for("the rollback", lambda: (lambda d: d if _finished(d) else None)(world.latest()),
                    timeout=DEADLINE)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    # A Lambda hook: there is no Lambda here, so its invocation fails and the deployment rolls back.
    lam = {"targetType": "AWS_LAMBDA", "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:check",
           "roleArn": "arn:aws:iam::123456789012:role/hooks", "lifecycleStages": ["PRE_SCALE_UP"]}
    world.ecs.update_service(cluster="c", service="s", taskDefinition=world.v2,
                             deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                                                      "lifecycleHooks": [lam]})
    done = wait_for("the rollback", lambda: (lambda d: d if _finished(d) else None)(world.latest()),
                    timeout=DEADLINE)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert any("has no Lambda" in e for e in world.events())


def test_a_rolling_deployment_is_listed_and_stopped_with_a_rollback(world):
    world.ecs.create_service(cluster="c", serviceName="s", taskDefinition=world.v1, desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network)
    first = wait_for("the first deployment", lambda: (lambda d: d if d and d[0]["status"] == "SUCCESSFUL" else None)(
        world.deployments()), timeout=DEADLINE)[0]
    assert first["deploymentConfiguration"].get("strategy", "ROLLING") == "ROLLING"
    assert "lifecycleStage" not in first and first["alarms"] == {"status": "DISABLED"}
    # An image outside the catalogue never pulls: without a circuit breaker the deployment
    # keeps trying (IN_PROGRESS) until it is stopped.
    unpullable = world.register(world.container(image="public.ecr.aws/mylearning/nope:1.0"), family="api")
    world.ecs.update_service(cluster="c", service="s", taskDefinition=unpullable)
    running = world.latest()
    assert running["status"] == "IN_PROGRESS" and running["serviceDeploymentArn"] != first["serviceDeploymentArn"]
    world.ecs.stop_service_deployment(serviceDeploymentArn=running["serviceDeploymentArn"])
    stopped = wait_for("the rollback", lambda: (lambda d: d if d["status"] == "ROLLBACK_SUCCESSFUL" else None)(
        world.ecs.describe_service_deployments(serviceDeploymentArns=[running["serviceDeploymentArn"]])[
            "serviceDeployments"][0]), timeout=DEADLINE)
    assert stopped["rollback"]["serviceRevisionArn"] == first["targetServiceRevision"]["arn"]
    assert world.service()["taskDefinition"] == world.v1
    briefs = world.ecs.list_service_deployments(cluster="c", service="s", status=["ROLLBACK_SUCCESSFUL"])
    assert [b["serviceDeploymentArn"] for b in briefs["serviceDeployments"]] == [running["serviceDeploymentArn"]]
    missing = world.ecs.describe_service_deployments(serviceDeploymentArns=[running["serviceDeploymentArn"] + "x"])
    assert missing["failures"][0]["reason"] == "MISSING" and not missing["serviceDeployments"]


def test_a_pause_hook_that_times_out_takes_its_timeout_action(world):
    hook = {"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "CONTINUE"}}
    world.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [hook]})
    world.deploy()
    stages, done = world.stages_until(_finished)
    assert done["status"] == "SUCCESSFUL"
    assert done["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"
    assert "PRODUCTION_TRAFFIC_SHIFT" in stages


def test_the_circuit_breaker_rolls_a_blue_green_deployment_back_without_touching_traffic(world):
    world.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                  "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    unpullable = world.register(world.container(image="public.ecr.aws/mylearning/nope:1.0"), family="api")
    world.ecs.update_service(cluster="c", service="s", taskDefinition=unpullable)
    done = wait_for("the rollback", lambda: (lambda d: d if _finished(d) else None)(world.latest()),
                    timeout=DEADLINE)
    assert done["status"] == "ROLLBACK_SUCCESSFUL", done
    assert done["lifecycleStage"] == "SCALE_UP"
    assert done["deploymentCircuitBreaker"]["failureCount"] >= done["deploymentCircuitBreaker"]["threshold"] == 3
    assert world.weights(world.prod_rule) == {world.blue: 1, world.green: 0}
    assert world.service()["taskDefinition"] == world.v1
    assert set(world.version_of_answers(10)) == {"1.1.0"}


def test_a_rolling_update_of_a_service_that_has_an_alternate_group_stays_in_its_group(world):
    world.create({"strategy": "ROLLING"}, count=1)
    world.deploy()
    done = wait_for("the rolling deployment", lambda: (lambda d: d if _finished(d) else None)(world.latest()),
                    timeout=DEADLINE)
    assert done["status"] == "SUCCESSFUL" and "lifecycleStage" not in done
    wait_for("the new task in the primary group",
             lambda: len([h for h in world.states(world.blue).values() if h["State"] == "healthy"]) == 1,
             timeout=DEADLINE)
    assert not [h for h in world.states(world.green).values() if h["State"] != "draining"]
    assert world.weights(world.prod_rule) == {world.blue: 100, world.green: 0}  # never touched
