"""The value ``@catch`` stores in its variable when a step failed for good."""

from __future__ import annotations


class CaughtException:
    """A failed step's exception, kept as an artifact: type name, message, traceback text."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        self.type = type_name
        self.message = message
        self.traceback = traceback

    @property
    def exception(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type

    def __str__(self) -> str:
        return self.exception

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
