"""The reference solutions, loaded under a name of their own.

The reference package lives at ``solutions/ecglab``. It is imported as ``_ecglab_reference`` so
that it never takes the place of a student's ``ecglab`` in ``sys.modules`` (a notebook kernel that
grades has the student's ``ecglab`` imported already). The reference package therefore only uses
relative imports inside itself; a test checks that.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

from .course import SOLUTIONS

ALIAS = "_ecglab_reference"


def reference_package():
    """The reference ``ecglab`` package (imported once)."""
    if ALIAS in sys.modules:
        return sys.modules[ALIAS]
    init = SOLUTIONS / "ecglab" / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"{init}: the reference solutions are missing")
    spec = importlib.util.spec_from_file_location(ALIAS, init,
                                                  submodule_search_locations=[str(init.parent)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[ALIAS] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[ALIAS]
        raise
    return package


def reference_module(name: str):
    """A module of the reference package, e.g. ``reference_module("preprocess")``."""
    reference_package()
    return importlib.import_module(f"{ALIAS}.{name}")


def reference_object(qualname: str) -> Any:
    """A function or class of the reference by ``"module.name"``, e.g. ``"preprocess.normalize"``."""
    module, name = qualname.rsplit(".", 1)
    return getattr(reference_module(module), name)
