"""The labs' step checks: one module per lab, `labNN_topic.py`, each with a `LAB`.

A grader declares its lab's steps with `mylearning.steps` and reads the account
through the AWS API. Check cells and batch grading both reach a grader through
`mylearning.course.grader(number)`, so what a learner sees in a notebook is what the
instructor's gradebook gets.
"""
