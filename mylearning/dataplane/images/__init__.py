"""The course images: the container images MyLearning publishes, as small programs.

There is no Docker here. A container is an OS process forked from a pre-loaded Python
process, and an image is a Python function that behaves like the real service at its
interfaces (HTTP API, /health, JSON logs, environment, secrets, exit codes). The
catalogue (no I/O) says which references exist; the runtime starts one in a forked child.
Importing this package imports nothing heavy, so the embedded AWS may read the catalogue.
"""
