"""``python -m autograder``: generate, check, run lessons, build the nbgrader course, demo, mutate."""

from .cli import main

raise SystemExit(main())
