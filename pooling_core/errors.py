"""The one exception the library raises for anything a user can get wrong."""


class PoolingError(ValueError):
    """A bad input or hyperparameter, with a message written for a student."""
