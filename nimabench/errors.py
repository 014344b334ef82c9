"""Errors a user can act on. The CLI prints their message on one line, without a traceback."""


class NimabenchError(Exception):
    """Base class: the message names the file, line or option to fix."""


class UnknownNameError(NimabenchError, KeyError):
    """A backbone, loss, schedule, dataset or trainer name that no plugin registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DuplicateNameError(NimabenchError):
    """Two plugins registered the same name."""


class DatasetError(NimabenchError):
    """A dataset's files are missing or malformed."""


class LabelError(NimabenchError):
    """A rating distribution cannot be built from the given votes or moments."""


class MetricError(NimabenchError, ValueError):
    """Metric inputs that do not fit together (for example, mismatched lengths)."""
