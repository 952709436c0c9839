"""The value ``@catch`` stores in its variable when a step failed for good, and how the type
of a caught exception is named."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

# Qualified names of exception types shown under another name (the compatibility package
# shows headwater's exceptions under Metaflow's names to flows that use Metaflow's API).
_DISPLAY_NAMES: dict[str, str] = {}


def type_name(exc_type: type) -> str:
    """``module.QualName`` of an exception type, as Metaflow names caught exceptions;
    builtins keep their bare name (``ValueError``)."""
    module = getattr(exc_type, "__module__", None) or ""
    name = getattr(exc_type, "__qualname__", None) or exc_type.__name__
    if module in ("builtins", ""):
        return name
    full = f"{module}.{name}"
    return _DISPLAY_NAMES.get(full, full)


def show_type_names(names: Mapping[str, str]) -> None:
    """Name the exception types ``names`` maps (qualified name -> shown name) accordingly."""
    _DISPLAY_NAMES.update(names)


class CaughtException:
    """A failed step's exception, kept as an artifact: ``type`` (its qualified type name),
    ``exception`` (its message, as Metaflow's ``str(exception)``), ``traceback``."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        self.type = type_name
        self.message = message
        self.traceback = traceback

    @property
    def exception(self) -> str:
        """The exception's message (``str()`` of the exception that was caught)."""
        return self.message

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type

    def _hw_r_value(self) -> dict[str, str]:
        """What an R step reads: list(type, message, traceback, exception)."""
        return {
            "type": self.type,
            "message": self.message,
            "traceback": self.traceback,
            "exception": self.exception,
        }

    def __repr__(self) -> str:
        return f"CaughtException({self.type!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CaughtException) and (
            (self.type, self.message, self.traceback)
            == (other.type, other.message, other.traceback)
        )

    __hash__ = None  # type: ignore[assignment]
