"""AWS facts the course relies on, each stated once, in modules without I/O.

Both sides import them: the embedded AWS (to refuse what AWS refuses) and the
course's helpers (to explain the refusal before AWS has to). A fact cites the page
it comes from.
"""
