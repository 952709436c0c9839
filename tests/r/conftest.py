"""R for the tests: Debian's R (``make test`` installs it) and the headwater R package, installed
once per test session from ``r/`` into a private library, so the tests run the R code of this
checkout. Without R the tests skip, except under CI (the CI variable set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
R_SOURCE = REPO / "r"
R_FLOWS = REPO / "tests" / "flows" / "r"


def missing_r() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (make test installs r-base-core)"
    probe = subprocess.run(
        ["Rscript", "-e", "for (p in c('jsonlite','R6','processx','digest')) loadNamespace(p)"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"R lacks packages the headwater R package needs: {probe.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def r_library(tmp_path_factory) -> Path:
    """A library holding the headwater R package of this checkout."""
    reason = missing_r()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"R tests must run under CI, but {reason}")
        pytest.skip(reason)
    lib = tmp_path_factory.mktemp("R-library")
    done = subprocess.run(
        ["R", "CMD", "INSTALL", "--no-docs", "--no-multiarch", "-l", str(lib), str(R_SOURCE)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return lib


@pytest.fixture
def r_env(r_library, hw_root, monkeypatch) -> dict[str, str]:
    """Environment of R processes: the test library first, this Python for headwater."""
    monkeypatch.setenv("R_LIBS", str(r_library))
    monkeypatch.setenv("HEADWATER_PYTHON", sys.executable)
    return dict(os.environ)


@pytest.fixture
def run_r(r_env, hw_root):
    """Run ``Rscript <script> <args>`` from a copy of the script's folder in the test's
    directory (where generated flow files go); returns CompletedProcess."""

    def run(
        script: str | Path,
        *args: str,
        timeout: float = 180,
        cwd: Path | None = None,
        env_extra: dict[str, str] | None = None,
    ):
        path = Path(script)
        if not path.is_absolute():
            path = R_FLOWS / path
        where = cwd or hw_root.parent
        target = where / path.name
        if not target.exists():
            for item in path.parent.iterdir():
                if item.is_file() and not item.name.endswith(".R.py"):
                    shutil.copy(item, where / item.name)
        return subprocess.run(
            ["Rscript", str(target), *args],
            capture_output=True,
            text=True,
            env=dict(r_env, **(env_extra or {})),
            timeout=timeout,
            cwd=where,
        )

    return run
