"""How numbers are written in explanations."""

import math


def fmt(value: float) -> str:
    """A number as a student would write it: ``6``, ``3.25``, ``0.1667``, ``-inf``, ``nan``."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"
