"""The R package's own tests (testthat, in r/tests/testthat), and its tutorials."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.r, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TESTTHAT = REPO / "r" / "tests" / "testthat"
TUTORIALS = REPO / "r" / "inst" / "tutorials"

_RUN_TESTTHAT = """
results <- as.data.frame(testthat::test_dir(
  commandArgs(TRUE)[[1]], package = "headwater", load_package = "installed",
  reporter = "summary", stop_on_failure = FALSE
))
failed <- sum(results$failed) + sum(results$error)
cat(sprintf("\\n%d passed, %d failed\\n", sum(results$nb) - failed, failed))
quit(status = if (failed > 0) 1L else 0L)
"""


def test_testthat_suite_passes(r_env, tmp_path, capsys):
    done = subprocess.run(
        ["Rscript", "-e", _RUN_TESTTHAT, str(TESTTHAT)],
        capture_output=True,
        text=True,
        env=r_env,
        cwd=tmp_path,
        timeout=600,
    )
    counts = [line for line in done.stdout.splitlines() if line.endswith(" failed")]
    with capsys.disabled():
        print(f"\nR tests (testthat): {counts[-1] if counts else 'no count'}")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert counts and counts[-1].endswith(" 0 failed")


def _tutorial(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(TUTORIALS / name, target)
    return target


def _rscript(where: Path, env: dict, *args: str) -> str:
    done = subprocess.run(
        ["Rscript", *args], capture_output=True, text=True, env=env, cwd=where, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_tutorials_run_and_build_on_each_other(r_env, tmp_path, client_state):
    from headwater import Flow, namespace

    namespace(None)
    env = dict(r_env, HEADWATER_ROOT=str(tmp_path / ".headwater"))
    r_env_root = env["HEADWATER_ROOT"]

    hello = _rscript(_tutorial(tmp_path, "00-helloworld"), env, "helloworld.R", "run")
    assert "HelloFlow is starting." in hello and "HelloFlow is all done." in hello

    where = _tutorial(tmp_path, "01-playlist")
    show = _rscript(where, env, "playlist.R", "show")
    assert "pick_movie" in show and "bonus_movie" in show
    out = _rscript(where, env, "playlist.R", "run", "--genre", "Comedy", "--top_k", "3")
    assert "Playlist for movies in genre: Comedy" in out
    assert "Pick 3:" in out and "Pick 4:" not in out

    stats = _rscript(_tutorial(tmp_path, "02-statistics"), env, "stats.R", "run")
    assert "Computing statistics for Drama" in stats
    redux = _rscript(_tutorial(tmp_path, "03-playlist-redux"), env, "playlist.R", "run")

    from headwater import client

    client.metadata(f"local@{r_env_root}")
    playlist = Flow("PlayListFlow").latest_successful_run.data
    assert set(playlist.playlist["genre"]) == {"Comedy"}
    assert playlist.top_k == 3
    table = Flow("MovieStatsFlow").latest_successful_run.data.stats
    assert len(table) == len(set(table["genres"])) >= 5
    best = table.sort_values("median", ascending=False)["genres"].iloc[0]
    assert f"Picked genre: {best}" in redux
    assert Flow("PlayListReduxFlow").latest_successful_run.data.picked_genre == best
