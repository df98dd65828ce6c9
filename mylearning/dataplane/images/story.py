"""MyLearning.com's catalogue: the data the course's services serve.

One copy, so courses-api answers, enrollment validates and the web page renders the
same courses, and a lab can assert on a title it sees in a response.
"""
from __future__ import annotations

from dataclasses import dataclass

PLATFORM = "MyLearning.com"


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    level: str  # beginner | intermediate | advanced
    duration_minutes: int
    rating: float  # first served by courses-api 1.2.0
    instructor: str  # first served by courses-api 2.0.0


COURSES: tuple[Course, ...] = (
    Course("ecs-101", "Amazon ECS fundamentals", "beginner", 90, 4.7, "Ana Souza"),
    Course("fargate-201", "Serverless containers with AWS Fargate", "intermediate", 120, 4.6, "Ana Souza"),
    Course("taskdef-202", "Task definitions in depth", "intermediate", 75, 4.5, "Kenji Watanabe"),
    Course("services-203", "ECS services, deployments and rollbacks", "intermediate", 110, 4.8, "Kenji Watanabe"),
    Course("scaling-301", "Auto scaling and cost on ECS", "advanced", 95, 4.4, "Priya Raman"),
    Course("appmesh-301", "Service meshes with AWS App Mesh", "advanced", 140, 4.3, "Liam O'Connor"),
    Course("mtls-302", "Mutual TLS between microservices", "advanced", 80, 4.6, "Liam O'Connor"),
    Course("canary-303", "Canary releases and traffic shifting", "advanced", 70, 4.7, "Priya Raman"),
    Course("observe-204", "Observability: logs, metrics and traces", "intermediate", 100, 4.5, "Fatima Zahra"),
    Course("security-205", "Container security on AWS", "intermediate", 85, 4.8, "Fatima Zahra"),
    Course("troubleshoot-206", "Troubleshooting ECS tasks", "intermediate", 60, 4.9, "Kenji Watanabe"),
    Course("connect-304", "From App Mesh to ECS Service Connect", "advanced", 90, 4.6, "Ana Souza"),
)

BY_ID: dict[str, Course] = {course.id: course for course in COURSES}
LEVELS = ("beginner", "intermediate", "advanced")
