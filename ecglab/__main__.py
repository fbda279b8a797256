"""``python -m ecglab``: see :mod:`ecglab.cli`."""

from .cli import main

raise SystemExit(main())
