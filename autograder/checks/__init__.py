"""One module of checks per lesson; importing this package registers them all with the grader."""

from . import lesson1  # noqa: F401
