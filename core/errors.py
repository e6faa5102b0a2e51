"""Typed errors: every one carries a message a person can act on.

The UI shows ``str(error)`` as-is, so messages are written for people,
not for developers.
"""


class LabError(Exception):
    """Base class for errors the Lab expects and explains."""


class DocumentError(LabError):
    """A file could not be turned into a Document."""


class EmptyDocument(DocumentError):
    """The file is empty or holds only whitespace."""


class UnsupportedType(DocumentError):
    """The file's type is not one the Lab reads."""


class CorruptDocument(DocumentError):
    """The file is damaged, or is not what its extension says."""


class EncryptedDocument(DocumentError):
    """The file is password-protected."""


class NoExtractableText(DocumentError):
    """The file has pages but no text layer (e.g. a scanned PDF)."""


class FileTooLarge(DocumentError):
    """The file exceeds the configured size limit."""


class ConfigError(LabError, ValueError):
    """A configuration value is out of range (chunk size, k, LoRA rank, …)."""


class EmptyCorpus(LabError):
    """There is nothing to index or search."""


class InvalidQuery(LabError, ValueError):
    """A question is empty or too long."""


class IndexError_(LabError):
    """An index cannot be built, trained or loaded."""


class ModelUnavailable(LabError):
    """A model cannot be loaded: unknown name, hub unreachable, or broken files."""


class FetchError(ModelUnavailable):
    """A built-in model could not be fetched or converted: no network, a damaged download, a bad file."""


class AdapterError(LabError):
    """A LoRA adapter folder is missing files or is corrupt."""


class DatasetError(LabError):
    """A Q&A file is missing columns or has no usable rows."""


class Cancelled(LabError):
    """Long work (embedding, training, evaluation) was stopped by the user."""


def check_numbers(whole: dict[str, object] = {}, real: dict[str, object] = {}) -> None:  # noqa: B006 (read-only)
    """Raise ConfigError unless each ``whole`` value is an int and each ``real`` value a finite number.

    Range checks come after this, so ``inf``, ``nan``, ``True`` or ``"3"`` never reach a comparison
    (``inf > 0`` is true, ``nan > 0`` false: either way the wrong message or a silent accept).

    >>> check_numbers(whole={"rank": 8}, real={"alpha": float("inf")})
    Traceback (most recent call last):
    core.errors.ConfigError: alpha must be a finite number (got inf)
    """
    import math
    import numbers

    for name, value in whole.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{name} must be a whole number (got {value!r})")
    for name, value in real.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number (got {value!r})")
