"""Application Load Balancer facts that the listener rules and sticky sessions depend on.

No I/O: the data plane's ALB (``mylearning.dataplane.alb``) uses them, and the control
plane's elbv2 rules may import them too.
"""
from __future__ import annotations

#: The actions that answer a request; a rule has exactly one, performed last.
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html
ROUTING_ACTIONS = ("forward", "redirect", "fixed-response")
#: Actions performed before the routing one (HTTPS listeners): user authentication with
#: Amazon Cognito or an OpenID Connect provider, and JWT validation.
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html (Type)
PRE_ROUTING_ACTIONS = ("authenticate-cognito", "authenticate-oidc", "jwt-validation")
#: RedirectActionConfig.StatusCode: "The redirect is either permanent (HTTP 301) or
#: temporary (HTTP 302)".
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html
REDIRECT_STATUS = {"HTTP_301": 301, "HTTP_302": 302}

#: Cookies the load balancer generates; applications may not use these prefixes for their
#: own cookie ("AWSALB, AWSALBAPP, or AWSALBTG; they're reserved for use by the load
#: balancer").
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html
LB_COOKIE = "AWSALB"
TARGET_GROUP_COOKIE = "AWSALBTG"
APP_COOKIE_PREFIX = "AWSALBAPP-"
RESERVED_COOKIE_PREFIXES = ("AWSALB", "AWSALBAPP", "AWSALBTG")
#: The second cookie of each, with ``SameSite=None; Secure``, for CORS requests.
CORS_SUFFIX = "CORS"
#: Application cookies are split into up to 4 shards, AWSALBAPP-0 .. AWSALBAPP-3.
APP_COOKIE_SHARDS = 4
#: The Expires of the load balancer's own cookies: "its own expiry of 7 days which is
#: non-configurable"; the stickiness duration is checked inside the cookie.
LB_COOKIE_LIFETIME_SECONDS = 7 * 24 * 3600
#: stickiness.lb_cookie.duration_seconds and stickiness.app_cookie.duration_seconds: "The
#: default value is 1 day (86400 seconds)", at most 7 days.
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html
DEFAULT_STICKINESS_SECONDS = 86400
MAX_STICKINESS_SECONDS = 604800


def metric_dimension(arn: str) -> str:
    """The CloudWatch dimension value of a load balancer or target group ARN: ``app/<name>/<id>``
    (``LoadBalancer``) or ``targetgroup/<name>/<id>`` (``TargetGroup``)
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html)."""
    tail = arn.split(":", 5)[-1]
    return tail.split("loadbalancer/", 1)[1] if tail.startswith("loadbalancer/") else tail
