"""Importing this package registers every operator (one module per family)."""

from pooling_core.operators import classic, power, softpool

__all__ = ["classic", "power", "softpool"]
