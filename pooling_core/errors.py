"""The one exception the library raises for anything a user can get wrong."""

from pooling_core.messages import MESSAGES


class PoolingError(ValueError):
    """A bad input or hyperparameter, with a message written for a student.

    ``key`` names the message in :data:`~pooling_core.messages.MESSAGES` and ``fields`` fills its
    placeholders; ``str(err)`` is the English sentence, and a translation with the same key and
    placeholders gives it in another language.
    """

    def __init__(self, key: str, **fields):
        self.key = key
        self.fields = fields
        super().__init__(MESSAGES[key].format(**fields))

    def __reduce__(self):
        # The default rebuilds from args (the sentence), which is not a key.
        return _rebuild, (self.key, self.fields)


def _rebuild(key: str, fields: dict) -> PoolingError:
    return PoolingError(key, **fields)
