"""Settings read from the environment and the file system, at call time (never at import)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from headwater.exceptions import DatastoreNotFound

ROOT_DIR_NAME = ".headwater"


def username() -> str:
    """The user a run belongs to: HEADWATER_USER, METAFLOW_USER, USER or USERNAME."""
    for var in ("HEADWATER_USER", "METAFLOW_USER", "USER", "USERNAME"):
        value = os.environ.get(var)
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, e.g. in some containers
        return "unknown"


def debug_enabled() -> bool:
    return os.environ.get("HEADWATER_DEBUG", "") not in ("", "0", "false", "False")


def find_root(start: str | Path | None = None) -> Path | None:
    """The datastore root: HEADWATER_ROOT, else the nearest ``.headwater`` walking up."""
    env = os.environ.get("HEADWATER_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        candidate = d / ROOT_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def root_for_run(explicit: str | Path | None = None) -> Path:
    """The root a new run writes to; created if missing (``./.headwater`` by default)."""
    if explicit:
        root = Path(explicit).expanduser().resolve()
    else:
        root = find_root() or (Path(os.getcwd()).resolve() / ROOT_DIR_NAME)
    root.mkdir(parents=True, exist_ok=True)
    return root


def root_for_reading(explicit: str | Path | None = None) -> Path:
    """The root readers use; it must exist."""
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not root.is_dir():
            raise DatastoreNotFound(
                f"no headwater datastore at {root}: check the path, or run a flow first"
            )
        return root
    root = find_root()
    if root is None or not root.is_dir():
        raise DatastoreNotFound(
            f"no headwater datastore found from {os.getcwd()}: run a flow here first, "
            "or set HEADWATER_ROOT to the datastore's directory"
        )
    return root
