"""A real Airflow 3 for the tests: its own venv (pinned in airflow-requirements.txt), one
AIRFLOW_HOME per test session (SQLite, examples off), and a driver that runs DAGs with
``airflow dags test`` (airflow_driver.py).

The venv is ``$HEADWATER_AIRFLOW_VENV`` or ``.venv-airflow`` at the repository's root;
``make test`` makes it, and the first test that needs it makes it when it is missing. When it
cannot be made, the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
REQUIREMENTS = HERE / "airflow-requirements.txt"
DRIVER = HERE / "airflow_driver.py"


def venv_dir() -> Path:
    return Path(os.environ.get("HEADWATER_AIRFLOW_VENV") or REPO / ".venv-airflow")


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Airflow is needed under CI and {why}")
    pytest.skip(f"Airflow is not available: {why}")


def ensure_venv() -> Path:
    """The Airflow venv, installed when missing (the marker holds the requirements)."""
    venv = venv_dir()
    marker = venv / ".installed"
    wanted = REQUIREMENTS.read_text()
    if marker.exists() and marker.read_text() == wanted:
        return venv
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
    ]
    for argv in steps:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=1500)
        except (OSError, subprocess.TimeoutExpired) as ex:
            _unavailable(f"installing it failed: {ex}")
        if proc.returncode != 0:
            _unavailable(f"`{' '.join(argv)}` failed: {proc.stderr.strip()[-2000:]}")
    marker.write_text(wanted)
    return venv


class AirflowHome:
    """One AIRFLOW_HOME with its dags folder, and ways to run Airflow there."""

    def __init__(self, venv: Path, home: Path) -> None:
        self.venv = venv
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        }

    @property
    def python(self) -> str:
        return str(self.venv / "bin/python")

    def command(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.venv / "bin/airflow"), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def migrate(self) -> None:
        proc = self.command("db", "migrate")
        if proc.returncode != 0:
            _unavailable(f"`airflow db migrate` failed: {proc.stderr[-2000:]}")

    def test_dags(self, *dags: str, timeout: float = 900) -> dict[str, dict]:
        """Run each DAG (``DAG_ID`` or ``DAG_ID=CONF_JSON``) once; results by DAG id, each
        with ``run_id``, ``state`` and ``output`` (the whole log of the driver)."""
        proc = subprocess.run(
            [self.python, str(DRIVER), *dags],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = proc.stdout + proc.stderr
        results = {}
        for line in proc.stdout.splitlines():
            if line.startswith("DAG-RESULT "):
                result = json.loads(line[len("DAG-RESULT ") :])
                result["output"] = output
                results[result["dag_id"]] = result
        assert results, output[-5000:]
        return results

    def describe(self) -> dict[str, dict]:
        """What Airflow makes of every DAG file in the dags folder (see the driver)."""
        proc = subprocess.run(
            [self.python, str(DRIVER), "--describe"],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=600,
        )
        for line in proc.stdout.splitlines():
            if line.startswith("DAGS "):
                return json.loads(line[len("DAGS ") :])  # type: ignore[no-any-return]
        raise AssertionError(proc.stdout[-3000:] + proc.stderr[-5000:])
