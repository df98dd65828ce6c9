"""Amazon ECS names the course's roles and checks depend on."""
from __future__ import annotations

#: The service principal that runs ECS tasks and assumes their task and execution roles.
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
#: AWS managed policy for the task execution role (pull images, write logs).
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
#: The dimension Application Auto Scaling changes on an ECS service, in the "ecs" namespace.
#: https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-ecs.html
SERVICE_NAMESPACE = "ecs"
DESIRED_COUNT = "ecs:service:DesiredCount"
#: The two together, as every Application Auto Scaling call on an ECS service takes them.
DESIRED_COUNT_DIMENSION = {"ServiceNamespace": SERVICE_NAMESPACE, "ScalableDimension": DESIRED_COUNT}
#: The public SSM parameter with the current ECS-optimized Amazon Linux 2023 AMI.
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
ECS_OPTIMIZED_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def task_private_ip(task: dict) -> str | None:
    """A task's ENI address (awsvpc), where describe_tasks puts it: the
    ``privateIPv4Address`` detail of its ElasticNetworkInterface attachment.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attachment.html
    """
    for attachment in task.get("attachments") or []:
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address":
                return detail.get("value")
    return None
