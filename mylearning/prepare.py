"""Build what earlier labs would have built, so any lab can start in a fresh kernel.

Each lab's first cell calls `up_to(session, LAB)`, which runs the builder of every
earlier lab that has one (`build` in its `mylearning.course` module), in order.
Every builder finds before it creates, so calling it on an account that already
has the resources changes nothing, and a learner who did the earlier labs keeps
their own work. The builders reproduce the labs' solutions, and the labs' graders
accept their result (the course's tests check that for every lab).
"""
from __future__ import annotations

from typing import Any

from mylearning import course
from mylearning.identity import lab_id


def up_to(session: Any, lab: str | int, quiet: bool = False) -> list[str]:
    """Build the end state of every lab before `lab`; return the labs that were prepared."""
    target = lab_id(lab)
    done = []
    for number in course.numbers():
        build = course.builder(number)
        if number < target and build is not None:
            build(session)
            done.append(number)
    if not quiet:
        print(f"Prepared what labs {', '.join(done)} build." if done
              else "Nothing to prepare: this lab needs nothing from earlier labs.")
    return done


def foundation(session: Any) -> None:
    """The network and cluster the course runs on, for a lab that needs them before its turn.

    Lab 01 lands the migrated App Runner service on the cluster that the network-and-
    cluster lab builds step by step; this builds the same end state in one call, so
    that lab later finds it (and its checks accept it).
    """
    course.builder(course.FOUNDATION)(session)
