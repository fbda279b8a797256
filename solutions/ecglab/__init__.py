"""The reference ``ecglab``: the exercise modules of this folder over the ready-made package.

``solutions/`` holds only what students write. Everything else of ``ecglab`` (data layer, plots,
command line...) is written once, in the repository's ``ecglab/``. This file makes the two one
package: it puts ``ecglab/`` *behind* this folder on the package's ``__path__`` (so
``ecglab.preprocess`` is the reference here, ``ecglab.data`` the ready-made one) and runs the
ready-made ``ecglab/__init__.py`` in this package's namespace. So ``--impl solutions`` is the
reference in every command, with nothing committed twice.
"""

import os as _os

__path__.append(_os.path.join(_os.path.dirname(_os.path.dirname(_os.path.dirname(
    _os.path.realpath(__file__)))), "ecglab"))
_ready_made_init = _os.path.join(__path__[-1], "__init__.py")
with open(_ready_made_init, encoding="utf-8") as _file:
    exec(compile(_file.read(), _ready_made_init, "exec"))
del _file, _ready_made_init
