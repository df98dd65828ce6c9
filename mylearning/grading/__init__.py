"""Batch grading of learners' notebooks: the `mylearning grade` command.

Grading is a pipeline of small steps, one module each, so every limit and
every trust boundary has one obvious home:

* ``discovery``  - which files are submissions, their names and content hashes
* ``notebooks``  - read a notebook defensively, or say plainly why it cannot run
* ``sandbox``    - the kernel's environment (no credentials) and process reaping
* ``emulators``  - one embedded AWS per worker, reset between submissions
* ``execution``  - run the cells in a fresh kernel under time and output limits
* ``evaluation`` - the lab's checks, in the grader's process, on the emulator state
* ``records``    - one submission's grade, and finding it again when resuming
* ``outputs``    - grades.csv, Gradescope results.json, feedback, output guard

``batch`` runs the stages of a run, each owning its own clean-up:

* ``gradebook``  - the output folder: each grade as it comes, the gradebook at the end
* ``resume``     - earlier grades of the same content, and copies within the run
* ``pool``       - the run's emulators, kernels and reaper; ``worker`` grades from the queue
* ``preflight``  - the checks on an empty account, before any notebook runs
* ``shutdown``   - SIGTERM and SIGHUP end a run like Ctrl-C

and ``job`` holds what it is asked and returns; ``summary``, ``progress``,
``live`` and ``cli`` complete the package.

The checks never run inside the learner's kernel: whatever a notebook does to
``check``, ``graders`` or ``mylearning`` in its own memory cannot change a grade.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mylearning.grading.batch import BatchResult, GradingOptions, grade_batch

__all__ = ["BatchResult", "GradingOptions", "grade_batch"]


def __getattr__(name: str) -> Any:
    """Load the pipeline on first use: `mylearning --help` should not pay for it."""
    if name in __all__:
        from mylearning.grading import batch
        return getattr(batch, name)
    raise AttributeError(f"module 'mylearning.grading' has no attribute {name!r}")
