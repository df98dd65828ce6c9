"""The CloudWatch agent as an ECS sidecar: its image, configuration and permission. No I/O.

The App Mesh examples send Envoy's stats to CloudWatch by running the CloudWatch agent beside
Envoy with its StatsD listener on (aws-app-mesh-examples, walkthroughs/howto-metrics-extension-ecs;
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-custom-metrics-statsd.html).
The course's task definitions (`mylearning.mesh.sidecar`) and the data plane's agent image read
the same facts from here.
"""
from __future__ import annotations

#: The agent's image in ECR Public
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights-Prometheus-Setup-ECS.html).
IMAGE = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest"
#: On ECS the agent reads its JSON configuration from this environment variable, usually filled
#: from an SSM parameter through the container's ``secrets``
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy_servicelens_CloudWatch_agent_deploy_ECS.html).
CONFIG_VARIABLE = "CW_CONFIG_CONTENT"
#: The namespace of the agent's metrics when its configuration names none
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html,
#: "metrics": "namespace").
DEFAULT_NAMESPACE = "CWAgent"
#: StatsD defaults (CloudWatch-Agent-custom-metrics-statsd.html): listen on port 8125, collect
#: every 10 s, aggregate into one data point per 60 s (0 turns aggregation off).
STATSD_SERVICE_ADDRESS = ":8125"
STATSD_COLLECTION_SECONDS = 10
STATSD_AGGREGATION_SECONDS = 60
#: The agent publishes with PutMetricData, which its role must allow (the CloudWatchAgentServerPolicy
#: managed policy grants it: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/create-iam-roles-for-cloudwatch-agent.html).
PUT_ACTION = "cloudwatch:PutMetricData"
#: The dimension the StatsD input adds to every metric: counter, gauge or timing (the metrics
#: extension walkthrough filters on ``metric_type=counter`` and ``metric_type=timing``).
METRIC_TYPE_DIMENSION = "metric_type"
