"""Stand-ins for a CourseSession in tests that need names and tags but no AWS."""
from __future__ import annotations

from mylearning import identity


class OfflineSession:
    """Just what the builders need without AWS: the learner "t", their names and tags."""

    prefix, learner, region_name = "ml-t", "t", "us-east-1"

    def name(self, *parts: str) -> str:
        return "-".join((self.prefix,) + parts)

    def tags(self, lab: str | int, style: str = "Key") -> list[dict]:
        return identity.tag_list(lab, self.learner, style=style)
