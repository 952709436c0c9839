"""Where runs are kept: the datastore and metadata settings, from options, the environment
and the user's settings file, read at call time (never at import).

Each setting has one name, the environment variable that sets it; the settings file
(``headwater configure`` writes it; ``HEADWATER_CONFIG`` or ``~/.config/headwater/config.json``)
is a JSON object of the same names. Precedence, highest first: an explicit value (a command-line
option, a client call), the environment, the settings file, the default.

=============================== ========================= ==================================
variable                        Settings field            default
=============================== ========================= ==================================
``HEADWATER_DEFAULT_DATASTORE`` ``datastore``             ``local``
``HEADWATER_DATASTORE_ROOT``    ``datastore_root``        (local: ``HEADWATER_ROOT``, else
                                                          the nearest ``.headwater``)
``HEADWATER_DEFAULT_METADATA``  ``metadata``              ``local`` (SQLite in the local root)
``HEADWATER_SERVICE_URL``       ``service_url``
``HEADWATER_SERVICE_TOKEN``     ``service_token``
``HEADWATER_S3_ENDPOINT_URL``   ``s3_endpoint_url``       (AWS; any S3-compatible endpoint)
=============================== ========================= ==================================
"""

from __future__ import annotations

import os

from headwater.exceptions import SettingsError
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from typing import Any

# Settings field -> environment variable (and key in the settings file).
VARIABLES: dict[str, str] = {
    "datastore": "HEADWATER_DEFAULT_DATASTORE",
    "datastore_root": "HEADWATER_DATASTORE_ROOT",
    "metadata": "HEADWATER_DEFAULT_METADATA",
    "service_url": "HEADWATER_SERVICE_URL",
    "service_token": "HEADWATER_SERVICE_TOKEN",
    "s3_endpoint_url": "HEADWATER_S3_ENDPOINT_URL",
}
SECRET_FIELDS = frozenset({"service_token"})


class Settings(Record):
    datastore: str = "local"
    datastore_root: str | None = None
    metadata: str = "local"
    service_url: str | None = None
    service_token: str | None = None
    s3_endpoint_url: str | None = None

    def with_values(self, **values: Any) -> Settings:
        """A copy with the given fields replaced, ignoring those given as None."""
        given = {k: v for k, v in values.items() if v is not None}
        return self._replace(**given) if given else self

    def to_environ(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in another process."""
        return {VARIABLES[k]: str(v) for k, v in self._asdict().items() if v is not None}

    def public(self) -> dict[str, Any]:
        """The fields, with secrets masked (for ``configure show`` and messages)."""
        out = dict(self._asdict())
        for k in SECRET_FIELDS:
            if out.get(k):
                out[k] = "****" + str(out[k])[-4:]
        return out


def settings_path(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    explicit = env.get("HEADWATER_CONFIG")
    if explicit:
        return os.path.expanduser(explicit)
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "headwater", "config.json")


def read_settings_file(path: str) -> dict[str, str]:
    """The settings file as a dict of variable -> value; {} when there is none."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as e:
        raise SettingsError(f"cannot read the settings file {path} ({e.strerror or e})") from None
    import json  # here: most processes have no settings file, and the client path avoids json

    try:
        data = json.loads(text)
    except ValueError as e:
        raise SettingsError(
            f"cannot read the settings file {path} ({e}): fix it, or write a new one with "
            "`headwater configure`"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(
            f"the settings file {path} is not a JSON object: write a new one with "
            "`headwater configure`"
        )
    return {str(k): str(v) for k, v in data.items() if v is not None}


def load_settings(environ: Mapping[str, str] | None = None, **explicit: str | None) -> Settings:
    """Settings from ``explicit`` values (None: not given), then the environment, then the
    settings file, then the defaults."""
    env = os.environ if environ is None else environ
    from_file: dict[str, str] | None = None
    values: dict[str, Any] = {}
    for field, var in VARIABLES.items():
        value = explicit.get(field)
        if value is None:
            value = env.get(var) or None
        if value is None:
            if from_file is None:
                from_file = read_settings_file(settings_path(env))
            value = from_file.get(var) or None
        if value is not None:
            values[field] = value
    unknown = set(explicit) - set(VARIABLES)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}")
    return Settings(**values)


def plugin_setting(variable: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A setting that is not about the stores (``HEADWATER_RAY_ADDRESS``,
    ``HEADWATER_KUBERNETES_IMAGE``...): the environment, else the settings file, else None."""
    env = os.environ if environ is None else environ
    value = env.get(variable) or None
    if value is None:
        value = read_settings_file(settings_path(env)).get(variable) or None
    return value
