"""Importing this package registers every operator: one module per family, each calling ``register``.

The classic operators are imported first so that menus start with them.
"""

import importlib
import pkgutil

from pooling_core.operators import classic, power  # noqa: F401

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
