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


class AdapterError(LabError):
    """A LoRA adapter folder is missing files or is corrupt."""


class DatasetError(LabError):
    """A Q&A file is missing columns or has no usable rows."""


class Cancelled(LabError):
    """Long work (embedding, training, evaluation) was stopped by the user."""
