"""Amazon ECS names the course's roles and checks depend on."""
from __future__ import annotations

#: The service principal that runs ECS tasks and assumes their task and execution roles.
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
#: AWS managed policy for the task execution role (pull images, write logs).
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
