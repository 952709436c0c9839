"""Human output of the command line: the one place that writes to the terminal."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import TextIO


class Output:
    """Writes headlines, progress lines and raw task output to the terminal."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        quiet: bool = False,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet
        self.color = _wants_color(self.err)

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def echo(self, text: str = "") -> None:
        """A line of regular output (stdout)."""
        self.out.write(text + "\n")
        self.out.flush()

    def info(self, text: str) -> None:
        """A progress line (stderr); hidden by --quiet."""
        if not self.quiet:
            self.err.write(text + "\n")
            self.err.flush()

    def task_line(self, prefix: str, line: str, stream: str) -> None:
        """One line a task printed, prefixed with [run/step/task]."""
        if self.quiet:
            return
        target = self.out if stream == "stdout" else self.err
        target.write(f"{self._style(prefix, '2')} {line}\n")

    def flush(self) -> None:
        self.out.flush()
        self.err.flush()

    def success(self, text: str) -> None:
        if not self.quiet:
            self.err.write(self._style(text, "32") + "\n")
            self.err.flush()

    def warn(self, text: str) -> None:
        self.err.write(self._style(f"warning: {text}", "33") + "\n")
        self.err.flush()

    def error(self, text: str) -> None:
        """A one-line error headline (stderr); always shown."""
        self.err.write(self._style(f"error: {text}", "31") + "\n")
        self.err.flush()

    def write_bytes(self, data: bytes, stream: str = "stdout") -> None:
        target = self.out if stream == "stdout" else self.err
        target.flush()
        buf = getattr(target, "buffer", None)
        if buf is not None:
            buf.write(data)
            buf.flush()
        else:
            target.write(data.decode("utf-8", errors="replace"))


def _wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
