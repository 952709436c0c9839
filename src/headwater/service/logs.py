"""The service's logging: plain lines on stderr, uvicorn's access log included, with anything
that looks like a token (or a ``token=`` query parameter) replaced before it is written."""

from __future__ import annotations

import logging
import re

TOKEN = re.compile(r"hw_[A-Za-z0-9_\-]{8,}")
TOKEN_PARAMETER = re.compile(r"(?i)\b((?:access_)?token|authorization)=[^&\s\"']*")
REDACTED = "<redacted>"


def redact(text: str) -> str:
    return TOKEN_PARAMETER.sub(rf"\1={REDACTED}", TOKEN.sub("hw_" + REDACTED, text))


class RedactTokens(logging.Filter):
    """Formats the record's message once and writes it back without tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def config(level: str = "info") -> dict:
    """A logging dictConfig for uvicorn and the service."""
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "plain",
        "filters": ["redact"],
    }
    loggers = ("uvicorn", "uvicorn.error", "uvicorn.access", "headwater.service")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactTokens}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": handler},
        "loggers": {
            name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
            for name in loggers
        },
    }
