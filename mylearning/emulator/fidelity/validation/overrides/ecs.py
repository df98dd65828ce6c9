"""ECS ranges the API reference states and botocore's model leaves out."""
from mylearning.emulator.fidelity.validation.overrides import Override

_HEALTH = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html"

OVERRIDES = (
    # "interval ... You may specify between 5 and 300 seconds."
    Override("HealthCheck", "interval", _HEALTH, {"min": 5, "max": 300}),
    # "timeout ... You may specify between 2 and 120 seconds."
    Override("HealthCheck", "timeout", _HEALTH, {"min": 2, "max": 120}),
    # "retries ... You may specify between 1 and 10 retries."
    Override("HealthCheck", "retries", _HEALTH, {"min": 1, "max": 10}),
    # "startPeriod ... You can specify between 0 and 300 seconds."
    Override("HealthCheck", "startPeriod", _HEALTH, {"min": 0, "max": 300}),
    # "healthCheckGracePeriodSeconds ... You can specify a health check grace period of up to
    # 2,147,483,647 seconds."
    Override("CreateServiceRequest", "healthCheckGracePeriodSeconds",
             "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
             {"max": 2147483647}),
    Override("UpdateServiceRequest", "healthCheckGracePeriodSeconds",
             "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html",
             {"max": 2147483647}),
)
