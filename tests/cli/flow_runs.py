"""Running flows from tests as given users, and stores made once per module then copied."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def run_id_of(proc) -> str:
    """The run id a ``run``/``resume`` command printed in its summary."""
    found = re.search(r"Run (\d+) of \w+ completed", proc.stderr)
    assert found, proc.stderr
    return found.group(1)


FLOWS = Path(__file__).resolve().parents[1] / "flows"


def build_root(base: Path, commands: Sequence[tuple[str, str, Sequence[str]]]) -> list[str]:
    """Run ``(user, flow file, args)`` commands against ``base/.headwater`` (for module-scoped
    stores that tests copy with :func:`copy_root`); returns the run id each one printed."""
    ids = []
    for user, flow_file, args in commands:
        env = dict(os.environ, HEADWATER_ROOT=str(base / ".headwater"), HEADWATER_USER=user)
        env.pop("HEADWATER_DEBUG", None)
        proc = subprocess.run(
            [sys.executable, str(FLOWS / flow_file), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=base,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        ids.append(run_id_of(proc))
    return ids


def copy_root(base: Path, hw_root: Path) -> None:
    """Make the test's root a copy of the store :func:`build_root` made in ``base``."""
    shutil.copytree(base / ".headwater", hw_root)
