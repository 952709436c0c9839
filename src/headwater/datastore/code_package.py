"""Code packages: the flow's directory as one gzipped tar, stored once per content.

A run records the key of its package; a task elsewhere (a Ray worker, a Kubernetes pod, an
Airflow worker) unpacks it and runs the same code, and ``Run.code`` reads it back. The package
holds the files under the flow file's directory whose names end with one of the suffixes
(``.py``, ``.R``, ``.RDS`` by default, as in Metaflow; ``--package-suffixes`` adds more),
skipping hidden directories and ``__pycache__``, plus ``INFO`` (JSON: the flow file, the
suffixes). The archive is deterministic (sorted names, zeroed times and owners), so unchanged
code gives the same key and is stored once.

The tar is written here rather than with :mod:`tarfile`, which takes 15-70 ms to import:
packing a typical project then costs a few milliseconds of each run. Reading uses tarfile.
"""

from __future__ import annotations

import io
import json
import os
import zlib
from collections.abc import Iterable, Sequence

from headwater.exceptions import DatastoreError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from tarfile import TarFile
    from typing import Any

DEFAULT_SUFFIXES = (".py", ".R", ".RDS")
INFO_FILE = "INFO"
MAX_PACKAGE_BYTES = 256 << 20  # more than this is a mistake (data next to the flow file)
_BLOCK = 512


def _header(name: str, size: int, mode: int) -> bytes:
    raw = name.encode("utf-8")
    prefix = b""
    if len(raw) > 100:  # ustar splits long names at a '/' into prefix (155) and name (100)
        cut = raw.rfind(b"/", 0, 156)
        if cut <= 0 or len(raw) - cut - 1 > 100:
            raise DatastoreError(f"cannot package {name!r}: its path is too long for a tar")
        prefix, raw = raw[:cut], raw[cut + 1 :]
    fields = [
        raw.ljust(100, b"\0"),
        b"%07o\0" % mode,
        b"0000000\0",  # uid
        b"0000000\0",  # gid
        b"%011o\0" % size,
        b"00000000000\0",  # mtime 0: the same bytes every time
        b" " * 8,  # checksum, filled below
        b"0",  # a regular file
        b"\0" * 100,  # link name
        b"ustar\x0000",
        b"\0" * 32,  # owner
        b"\0" * 32,  # group
        b"\0" * 8,  # device major, minor
        b"\0" * 8,
        prefix.ljust(155, b"\0"),
    ]
    header = b"".join(fields).ljust(_BLOCK, b"\0")
    checksum = b"%06o\0 " % sum(header)
    return header[:148] + checksum + header[156:]


def _tar(members: Iterable[tuple[str, bytes, int]]) -> bytes:
    parts = []
    for name, data, mode in members:
        parts.append(_header(name, len(data), mode))
        parts.append(data)
        if len(data) % _BLOCK:
            parts.append(b"\0" * (_BLOCK - len(data) % _BLOCK))
    parts.append(b"\0" * (2 * _BLOCK))
    return b"".join(parts)


def _gzip(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream (mtime 0)
    return c.compress(data) + c.flush()


def package_files(directory: str, suffixes: Sequence[str]) -> list[str]:
    """Paths (relative, '/'-separated, sorted) of the files a package of ``directory`` holds."""
    found = []
    wanted = tuple(suffixes)
    for folder, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        rel = os.path.relpath(folder, directory)
        for name in files:
            if name.endswith(wanted) and not name.startswith("."):
                found.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return sorted(found)


def pack(flow_file: str, suffixes: Sequence[str] = DEFAULT_SUFFIXES) -> bytes:
    """The code package of the flow defined in ``flow_file`` (a .tgz, deterministic)."""
    directory = os.path.dirname(os.path.abspath(flow_file))
    suffixes = tuple(dict.fromkeys([*DEFAULT_SUFFIXES, *suffixes]))
    members = []
    total = 0
    for rel in package_files(directory, suffixes):
        path = os.path.join(directory, rel)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
        except OSError:
            continue  # removed meanwhile, or unreadable: not part of the flow's code
        total += len(data)
        if total > MAX_PACKAGE_BYTES:
            raise DatastoreError(
                f"the code package of {flow_file} would exceed {MAX_PACKAGE_BYTES >> 20} MB: "
                f"move data files out of {directory} or narrow --package-suffixes"
            )
        members.append((rel, data, mode))
    info = {"flow_file": os.path.basename(flow_file), "suffixes": list(suffixes)}
    members.append((INFO_FILE, json.dumps(info, sort_keys=True).encode(), 0o644))
    return _gzip(_tar(members))


class CodePackage:
    """A code package read back (``Run.code``): the tarball, the flow's source, extraction.

    ``path`` is where it is stored, ``info`` its INFO (flow file, suffixes)."""

    def __init__(self, data: bytes, path: str) -> None:
        self._data = data
        self.path = path
        self._info: dict[str, Any] | None = None

    @property
    def tarball(self) -> TarFile:
        import tarfile

        return tarfile.open(fileobj=io.BytesIO(self._data), mode="r:gz")

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            member = self.tarball.extractfile(INFO_FILE)
            self._info = json.loads(member.read()) if member is not None else {}
        return self._info

    @property
    def flowspec(self) -> str:
        """The source of the flow file."""
        member = self.tarball.extractfile(self.info["flow_file"])
        if member is None:  # pragma: no cover - a package always holds its flow file
            raise DatastoreError(f"the code package at {self.path} lacks its flow file")
        return member.read().decode("utf-8")

    def extract(self, directory: str | os.PathLike[str] | None = None) -> str:
        """Unpack the package into ``directory`` (a new temp directory by default); returns
        the directory."""
        if directory is None:
            import tempfile

            directory = tempfile.mkdtemp(prefix="headwater-code-")
        target = os.fspath(directory)
        with self.tarball as tar:
            tar.extractall(target, filter="data")
        return target

    @property
    def data(self) -> bytes:
        return self._data

    def __repr__(self) -> str:
        return f"<CodePackage at {self.path}>"
