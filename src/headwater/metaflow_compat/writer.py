"""Write the ``metaflow`` compatibility package into a directory, never over a real Metaflow.

Every file written starts with :data:`MARKER`; a ``metaflow`` package or module in the
directory without it belongs to someone else (a real Metaflow installation) and is left alone,
as is a directory from which a real Metaflow is imported.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from headwater.exceptions import CommandLineError
from headwater.metaflow_compat.names import MODULES
from headwater.record import Record

MARKER = "# headwater-metaflow-compat"
PACKAGE = "metaflow"

_STUB = '''{marker}: written by `headwater metaflow-compat`; run it again to update.
"""``{module}`` of Metaflow's API, answered by headwater (see headwater.metaflow_compat)."""

from headwater.metaflow_compat.names import module_attributes as _module_attributes

__getattr__, __dir__ = _module_attributes(__name__)
{settings}'''

# Only the top-level package: importing it is what marks a Metaflow flow or script.
_SETTINGS = """
from headwater.metaflow_compat.metaflow_settings import use_metaflow_settings as _use

_use()  # Metaflow's store variables (METAFLOW_DEFAULT_DATASTORE, ...) name headwater's stores
"""


class Written(Record):
    """What write_package did: the package directory, its files, and a real Metaflow found
    elsewhere on this interpreter's path (which DIR on PYTHONPATH would hide), if any."""

    package_dir: Path
    files: tuple[Path, ...]
    shadowed: str | None


def module_path(package_parent: Path, module: str) -> Path:
    parts = module.split(".")
    if len(parts) == 1:
        return package_parent / parts[0] / "__init__.py"
    return package_parent.joinpath(*parts[:-1]) / f"{parts[-1]}.py"


def is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().startswith(MARKER)
    except OSError:
        return False


def check_target(directory: Path) -> None:
    """Raise a one-line error when writing into ``directory`` would overwrite or hide a real
    Metaflow installed there."""
    pkg = directory / PACKAGE
    if pkg.exists() and not (pkg.is_dir() and is_ours(pkg / "__init__.py")):
        raise CommandLineError(
            f"{pkg} exists and was not written by headwater (a real Metaflow?): "
            "choose another directory"
        )
    module_file = directory / f"{PACKAGE}.py"
    if module_file.exists() and not is_ours(module_file):
        raise CommandLineError(
            f"{module_file} exists and was not written by headwater: choose another directory"
        )
    origin = _installed_origin()
    if origin is not None and not is_ours(origin) and _inside(origin, directory):
        raise CommandLineError(
            f"a real Metaflow is installed in {directory} ({origin}): choose another directory"
        )


def _installed_origin() -> Path | None:
    """Where ``import metaflow`` would load from in this interpreter (None: nowhere)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in"):
        return Path(spec.origin)
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]) if locations else None


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def write_package(directory: str | os.PathLike[str]) -> Written:
    """Write (or update) ``<directory>/metaflow``; see the module docstring for refusals."""
    target = Path(directory).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise CommandLineError(f"{target} is not a directory: give a directory to write into")
    check_target(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        files = []
        for module in MODULES:
            path = module_path(target, module)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and not is_ours(path):
                raise CommandLineError(
                    f"{path} exists and was not written by headwater: choose another directory"
                )
            tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
            settings = _SETTINGS if module == PACKAGE else ""
            text = _STUB.format(marker=MARKER, module=module, settings=settings)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            files.append(path)
    except OSError as ex:
        raise CommandLineError(
            f"cannot write the metaflow package into {target} ({ex.strerror}): "
            "choose a writable directory"
        ) from None
    origin = _installed_origin()
    shadowed = None
    if origin is not None and not is_ours(origin) and not _inside(origin, target):
        shadowed = str(origin)
    return Written(target / PACKAGE, tuple(files), shadowed)
