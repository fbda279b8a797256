"""The one exception type ecglab raises for bad input data."""


class DataError(ValueError):
    """Bad or missing input data; the message is one line that names the file and the problem.

    A ``ValueError`` subclass, so ``except ValueError`` also catches it.
    """
