"""traffic.get's answers: header fields are found in any case, as HTTP defines them."""
from __future__ import annotations

from mylearning.traffic.reach import Headers


def test_header_fields_are_found_in_any_case():
    headers = Headers({"x-mylearning-task": "abc", "Content-Type": "application/json"})
    assert headers["X-MyLearning-Task"] == "abc"
    assert headers.get("content-type") == "application/json"
    assert "X-MYLEARNING-TASK" in headers and "x-other" not in headers
    assert headers.get("x-other", "-") == "-"
    assert dict(headers) == {"x-mylearning-task": "abc", "Content-Type": "application/json"}
