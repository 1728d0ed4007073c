"""One error tree for Frankly. Every error carries a stable ``code``."""

from __future__ import annotations


class FranklyError(Exception):
    """Root of every error Frankly raises on purpose."""

    code = "frankly_error"


class InputError(FranklyError, TypeError):
    """A value of the wrong type or shape was given to the API."""

    code = "invalid_input"


class ModelError(FranklyError):
    """A model could not be found, verified or loaded."""

    code = "model_error"


class ModelNotFoundError(ModelError, LookupError):
    code = "model_not_found"


class ChecksumError(ModelError):
    code = "checksum_mismatch"


class MissingDependencyError(FranklyError, ImportError):
    """An optional extra is needed for this feature; the message names the pip line."""

    code = "missing_dependency"


class DataError(FranklyError, ValueError):
    """A data file could not be read or lacks what was asked for."""

    code = "data_error"


class NotFoundError(FranklyError, LookupError):
    """Something asked for by id (a stored item, an API key) does not exist."""

    code = "not_found"


class StorageError(FranklyError):
    """The database could not do what was asked (unreachable, locked too long, too new)."""

    code = "storage_error"


def check_probability(name: str, value: object) -> float:
    """``value`` as a float in [0, 1], or an InputError naming ``name`` and what was given."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise InputError(f"{name} must be between 0 and 1, got {value!r}")
    return number

