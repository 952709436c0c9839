"""Settings read from the environment and the file system, at call time (never at import)."""

from __future__ import annotations

import os

from headwater.exceptions import DatastoreNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from pathlib import Path

ROOT_DIR_NAME = ".headwater"


def username() -> str:
    """The user a run belongs to: HEADWATER_USER, METAFLOW_USER, USER or USERNAME."""
    for var in ("HEADWATER_USER", "METAFLOW_USER", "USER", "USERNAME"):
        value = os.environ.get(var)
        if value:
            return value
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, e.g. in some containers
        return "unknown"


def debug_enabled() -> bool:
    return os.environ.get("HEADWATER_DEBUG", "") not in ("", "0", "false", "False")


def _resolve(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.expanduser(os.fspath(path)))


def locate_root(
    start: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The datastore root: HEADWATER_ROOT, else the nearest ``.headwater`` walking up from
    ``start`` (the working directory by default); None when there is none."""
    env = (os.environ if environ is None else environ).get("HEADWATER_ROOT")
    if env:
        return _resolve(env)
    here = _resolve(start or os.getcwd())
    while True:
        candidate = os.path.join(here, ROOT_DIR_NAME)
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def reading_root(explicit: str | os.PathLike[str] | None = None) -> str:
    """The root readers use (``explicit``, else :func:`locate_root`); it must exist."""
    if explicit:
        root = _resolve(explicit)
        if not os.path.isdir(root):
            raise DatastoreNotFound(
                f"no headwater datastore at {root}: check the path, or run a flow first"
            )
        return root
    found = locate_root()
    if found is None or not os.path.isdir(found):
        raise DatastoreNotFound(
            f"no headwater datastore found from {os.getcwd()}: run a flow here first, "
            "or set HEADWATER_ROOT to the datastore's directory"
        )
    return found


def run_root(explicit: str | os.PathLike[str] | None = None) -> str:
    """The root a new run writes to; created if missing (``./.headwater`` by default)."""
    if explicit:
        root = _resolve(explicit)
    else:
        root = locate_root() or os.path.join(_resolve(os.getcwd()), ROOT_DIR_NAME)
    os.makedirs(root, exist_ok=True)
    return root


def find_root(start: str | os.PathLike[str] | None = None) -> Path | None:
    """:func:`locate_root` as a Path (pathlib is imported only when this runs)."""
    from pathlib import Path

    found = locate_root(start)
    return None if found is None else Path(found)
