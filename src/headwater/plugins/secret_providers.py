"""Where ``@secrets`` gets secret values: the provider interface and the built-in providers.

A provider turns one secret source (an id and options) into environment variables for the
task. Built in:

- ``inline``: the values written in the source itself,
  ``{"type": "inline", "id": "db", "options": {"env_vars": {"DB_PASSWORD": "..."}}}``
  (handy for tests; do not commit real secrets in code).
- ``env``: a variable of the environment that launches the run, under its own name or the
  one in ``options["as"]``: ``{"type": "env", "id": "GITHUB_TOKEN"}`` or ``"env.GITHUB_TOKEN"``.
- ``file``: a file of ``NAME=value`` lines (``#`` comments, blank lines and ``export``
  prefixes allowed) or a JSON object: ``"file.~/.secrets/db.env"``.

Other providers (a vault, a cloud secret manager) subclass :class:`SecretsProvider` and are
registered with :func:`register_secrets_provider` or as entry points of the group
``headwater.secrets`` (``vault = "mypkg.secrets:VaultProvider"``), loaded when first used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from headwater.exceptions import SecretsError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

ENTRY_POINT_GROUP = "headwater.secrets"


class SecretsProvider:
    """Base class of a secrets provider: set ``TYPE`` and implement ``get_secret_as_dict``."""

    TYPE: str = ""

    def get_secret_as_dict(
        self, secret_id: str, options: Mapping[str, Any] | None = None, role: str | None = None
    ) -> dict[str, str]:
        """The environment variables (name -> value) that the secret ``secret_id`` gives."""
        raise NotImplementedError


class InlineSecretsProvider(SecretsProvider):
    TYPE = "inline"

    def get_secret_as_dict(
        self, secret_id: str, options: Mapping[str, Any] | None = None, role: str | None = None
    ) -> dict[str, str]:
        env_vars = (options or {}).get("env_vars")
        if not isinstance(env_vars, Mapping):
            raise SecretsError(
                f"inline secret {secret_id!r}: give its values as options={{'env_vars': "
                "{'NAME': 'value'}}"
            )
        return {str(k): _text(v, secret_id, k) for k, v in env_vars.items()}


class EnvSecretsProvider(SecretsProvider):
    TYPE = "env"

    def get_secret_as_dict(
        self, secret_id: str, options: Mapping[str, Any] | None = None, role: str | None = None
    ) -> dict[str, str]:
        if secret_id not in os.environ:
            raise SecretsError(
                f"env secret {secret_id!r}: the variable {secret_id} is not set where the run "
                "starts: export it first"
            )
        name = (options or {}).get("as") or secret_id
        return {str(name): os.environ[secret_id]}


class FileSecretsProvider(SecretsProvider):
    TYPE = "file"

    def get_secret_as_dict(
        self, secret_id: str, options: Mapping[str, Any] | None = None, role: str | None = None
    ) -> dict[str, str]:
        path = os.path.expanduser(secret_id)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as ex:
            raise SecretsError(
                f"file secret {secret_id!r}: cannot read it ({ex.strerror}): give a readable "
                "file of NAME=value lines or a JSON object"
            ) from None
        if text.lstrip().startswith("{"):
            import json

            try:
                data = json.loads(text)
            except ValueError:
                raise SecretsError(f"file secret {secret_id!r} is not valid JSON") from None
            return {str(k): _text(v, secret_id, k) for k, v in data.items()}
        out: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export ") :].strip()
            name, eq, value = line.partition("=")
            if not eq:
                raise SecretsError(
                    f"file secret {secret_id!r}, line {number}: write NAME=value (the line has "
                    "no '=')"
                )
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[name.strip()] = value
        return out


def _text(value: Any, secret_id: str, name: Any) -> str:
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    raise SecretsError(
        f"secret {secret_id!r}: the value of {name!r} is a {type(value).__name__}; environment "
        "variables take text"
    )


_PROVIDERS: dict[str, type[SecretsProvider]] = {
    p.TYPE: p for p in (InlineSecretsProvider, EnvSecretsProvider, FileSecretsProvider)
}


def register_secrets_provider(cls: type[SecretsProvider]) -> type[SecretsProvider]:
    """Make ``cls`` the provider of the source type ``cls.TYPE`` (usable as a decorator)."""
    if not cls.TYPE:
        raise ValueError(f"{cls!r} has no TYPE: set the source type it provides")
    _PROVIDERS[cls.TYPE] = cls
    return cls


def find_provider(kind: str) -> SecretsProvider:
    """A provider for the source type ``kind``."""
    cls = _PROVIDERS.get(kind)
    if cls is None:
        from headwater import registry

        target = registry.target("secrets", kind)
        if target is not None:
            try:
                cls = _PROVIDERS[kind] = registry.load("secrets", kind, "secrets provider")
            except Exception as ex:  # noqa: BLE001 - one line that names the plugin
                raise SecretsError(
                    f"the secrets provider {kind!r} ({target}) could not be loaded: "
                    f"{type(ex).__name__}: {ex}"
                ) from None
    if cls is None:
        known = ", ".join(sorted(_PROVIDERS))
        raise SecretsError(
            f"no secrets provider for the source type {kind!r} (known: {known}); install the "
            f"package that provides it (entry point group {ENTRY_POINT_GROUP!r})"
        )
    return cls()
