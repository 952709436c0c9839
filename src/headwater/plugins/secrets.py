"""``@secrets(sources=[...], role=None)``: secrets as environment variables of the task.

Each source is ``"type.id"`` (``"env.GITHUB_TOKEN"``; a bare ``"id"`` uses the type named by
``HEADWATER_DEFAULT_SECRETS_BACKEND_TYPE`` or Metaflow's variable of the same suffix) or a
dict ``{"type": ..., "id": ..., "options": {...}, "role": ...}``. Just before the step runs,
every source is read by its provider (:mod:`headwater.plugins.secret_providers`) and the
values are set in the task's environment. They are never saved as artifacts and never
printed: not in logs, cards, ``show`` or error messages (which name sources, never values).
Two sources giving the same variable is an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow, SecretsError
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class SecretSource(Record):
    """One source of secrets: the provider type, the secret's id, options and role."""

    type: str
    id: str
    options: Mapping[str, Any]
    role: str | None

    def __str__(self) -> str:
        return f"{self.id} ({self.type})"


def _default_type() -> str | None:
    for var in ("HEADWATER_DEFAULT_SECRETS_BACKEND_TYPE", "METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE"):
        if os.environ.get(var):
            return os.environ[var]
    return None


def _parse_text(source: str, role: str | None) -> SecretSource:
    kind, dot, ident = source.partition(".")
    if not dot:
        kind, ident = _default_type() or "", source
        if not kind:
            raise InvalidFlow(
                f"@secrets source {source!r} names no type: write 'type.id' (e.g. "
                f"'env.{source}'), or set HEADWATER_DEFAULT_SECRETS_BACKEND_TYPE"
            )
    return SecretSource(kind, ident, {}, role)


def parse_source(source: Any, role: str | None) -> SecretSource:
    """A source as written in ``sources=[...]``; InvalidFlow when it is malformed."""
    if isinstance(source, str):
        return _parse_text(source, role)
    if not isinstance(source, Mapping):
        raise InvalidFlow(
            f"@secrets source {type(source).__name__}: give 'type.id' or a dict with type, id "
            "and options"
        )
    kind = source.get("type", _default_type())
    ident = source.get("id")
    options = source.get("options", {})
    own_role = source.get("role", role)
    if not isinstance(kind, str) or not kind:
        raise InvalidFlow("@secrets source: 'type' must name a provider, e.g. 'env' or 'file'")
    if not isinstance(ident, str):
        raise InvalidFlow(f"@secrets source of type {kind!r}: 'id' must be a string")
    if not isinstance(options, Mapping):
        raise InvalidFlow(f"@secrets source {ident!r}: 'options' must be a dict")
    if own_role is not None and not isinstance(own_role, str):
        raise InvalidFlow(f"@secrets source {ident!r}: 'role' must be a string")
    return SecretSource(kind, ident, dict(options), own_role)


def read_secrets(sources: list[SecretSource]) -> dict[str, str]:
    """Every variable the sources give; SecretsError names the source that failed."""
    from headwater.plugins.secret_providers import find_provider

    values: dict[str, str] = {}
    given_by: dict[str, SecretSource] = {}
    for source in sources:
        provider = find_provider(source.type)
        try:
            got = provider.get_secret_as_dict(source.id, source.options, source.role)
        except SecretsError:
            raise
        except Exception as ex:  # noqa: BLE001 - a provider's failure, without its details
            raise SecretsError(
                f"@secrets could not read {source}: {type(ex).__name__} from the provider"
            ) from None
        for name, value in got.items():
            if not isinstance(name, str) or not name or "=" in name or "\0" in name:
                raise SecretsError(f"@secrets source {source} gives a bad variable name {name!r}")
            if name in given_by:
                raise SecretsError(
                    f"@secrets sources {given_by[name]} and {source} both set {name}: keep one"
                )
            given_by[name] = source
            values[name] = str(value)
    return values


class SecretsDecorator(StepDecorator):
    """Set secrets from ``sources`` as environment variables of the step's tasks."""

    name = "secrets"
    defaults = {"sources": [], "role": None}

    def init(self) -> None:
        sources = self.attributes["sources"]
        if isinstance(sources, (str, Mapping)) or not isinstance(sources, (list, tuple)):
            raise InvalidFlow("@secrets(sources=...) takes a list of sources")
        role = self.attributes["role"]
        if role is not None and not isinstance(role, str):
            raise InvalidFlow("@secrets(role=...) takes a string")
        self.sources = [parse_source(s, role) for s in sources]

    def task_pre_step(self, flow: Any, step_name: str, retry_count: int) -> None:
        os.environ.update(read_secrets(self.sources))

    def __repr__(self) -> str:  # the sources' options may hold secret values
        names = ", ".join(str(s) for s in getattr(self, "sources", ()))
        return f"@secrets(sources=[{names}])"


secrets = make_step_decorator(SecretsDecorator)
