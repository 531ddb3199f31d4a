"""PoolScope's pooling library: exact pooling operators with their explanations.

NumPy in, NumPy out; every operator is computed once in PyTorch, so its gradient comes from
autograd. See :func:`pool2d` for the main entry point and :data:`OPERATORS` for what exists.
"""

from pooling_core import operators as _operators  # noqa: F401  (registers every operator)
from pooling_core.api import PoolResult, gradient_routes, input_gradient, max_unpool2d, pool2d
from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, output_size
from pooling_core.inputs import LoadedImage, load_image, parse_grid
from pooling_core.neighbours import bilinear_pool, local_response_norm
from pooling_core.pyramid import pyramid_levels, spatial_pyramid_pool
from pooling_core.registry import OPERATORS, PRESETS, Operator, Param, Preset

__all__ = [
    "OPERATORS", "PRESETS", "LoadedImage", "Operator", "Param", "PoolResult", "Preset", "PoolingError",
    "WindowGeometry",
    "bilinear_pool", "gradient_routes", "input_gradient", "load_image", "local_response_norm", "max_unpool2d",
    "output_size",
    "parse_grid", "pool2d", "pyramid_levels", "spatial_pyramid_pool",
]
