"""AWS CloudTrail: the account's Event history, recorded call by call, and LookupEvents on it.

moto has trails (CreateTrail, ...) but no Event history. Here every management API call
the emulator answers is recorded for its caller, as CloudTrail records it, and
LookupEvents answers from that record (`history`, `lookup`).

* What is recorded: every call the fidelity layer decodes, whether a rule refused it,
  a handler or moto answered it, with the principal its access key belongs to (`identity`),
  and errorCode/errorMessage when it failed. Data events (S3 objects, SQS messages, ...,
  `mylearning.facts.cloudtrail.DATA_EVENTS`) are kept apart, as Event history shows only
  management events; trails that log them get them. Calls whose User-Agent names the data plane are not either: the data
  plane stands for AWS's own internals (the Fargate agent, Envoy's management server),
  whose calls a customer's Event history does not show. The emulator's own endpoints
  (health, reset, the agent's) are never decoded as AWS calls, so never recorded.
* What the data plane hands over (`ingest`): the data plane talks to the control plane
  only through the AWS API, so the records AWS services write for calls that tasks make
  with their task roles reach the emulator through CloudTrail Data's PutAuditEvents, on the
  reserved channel ``arn:aws:cloudtrail:<region>:<account>:channel/mylearning-aws-services``
  (`mylearning.facts.cloudtrail.SERVICE_CHANNEL`). Each event is a full CloudTrail record
  built with `mylearning.facts.cloudtrail.record`; the management events among them join
  the Event history. Any other channel is not found, as no other channel exists.
* Trails (`delivery`): moto keeps them (CreateTrail, StartLogging, PutEventSelectors); here
  each logging trail gets the records its selectors select as log files in its S3 bucket,
  every few seconds, and GetTrailStatus says when it last did.
* Bound: each Region keeps its newest `history.PER_REGION` events (a ring buffer);
  AWS keeps 90 days, which a learner's session never reaches at that count.
"""
from mylearning.emulator.fidelity.cloudtrail import delivery, history, ingest, lookup  # noqa: F401
