# Generated from solutions/ecglab/__main__.py by `python -m autograder generate`: edit that file, not this one.
"""``python -m ecglab``: see :mod:`ecglab.cli`."""

from .cli import main

raise SystemExit(main())
