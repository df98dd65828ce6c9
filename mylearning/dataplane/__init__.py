"""The data plane: what makes the embedded AWS's resources *behave*, not just exist.

A separate process started by its emulator (`mylearning.emulator.dataplane_process`) and
a client of it through the AWS API only (boto3, and the agent endpoints ECS's own agent
uses), never through moto's memory:

* the **task agent** (`agent`, `task`, `containers`): learns from ECS which tasks to run,
  starts their containers as real processes forked from a pre-loaded launcher, honours
  the task definition (ports, essential, dependsOn, health checks, memory, stopTimeout,
  secrets, awslogs) and reports every state change back to ECS;
* the **course images** (`images`): the catalogue of images the course publishes, small
  programs that behave like the real services at their interfaces;
* the **edge** (`edge`): an HTTP proxy on loopback standing for the internet, through
  which any client reaches a task by the private IP `describe_tasks` reports;
* **telemetry** (`metrics`, `awslogs`): container logs to CloudWatch Logs, usage metrics
  to CloudWatch.
* the **mesh sidecar's decision core** (`mesh`): the App Mesh configuration of a proxy, read
  through the App Mesh API, and what Envoy would decide with it (routes, retries, timeouts,
  outlier detection, connection pools, the egress filter, Envoy's stats), without sockets.

Each task gets its own loopback address (127.x.y.z) standing for its ENI's private IP,
so its containers listen on the task definition's own ports. It is a faithful teaching
data plane, not Docker or Fargate: where it differs, the module that does it says so.
"""
