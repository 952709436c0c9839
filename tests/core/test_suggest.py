"""The near name to a misspelt one, for "did you mean ...?" in error messages."""

from __future__ import annotations

from headwater.core.suggest import close_match, did_you_mean


def test_a_typo_gets_the_nearest_name():
    known = ["test_mse", "train_mse", "model", "alphas"]
    assert close_match("test_mes", known) == "test_mse"
    assert close_match("tset_mse", known) == "test_mse"
    assert close_match("modle", known) == "model"
    assert did_you_mean("alpha", known) == "did you mean 'alphas'?"


def test_case_and_dashes_are_near_misses():
    assert close_match("n_rows", ["n-rows", "seed"]) == "n-rows"
    assert close_match("--N-ROWS", ["--n-rows", "--seed"]) == "--n-rows"
    assert close_match("TrainFlow", ["trainflow"]) == "trainflow"


def test_nothing_is_suggested_for_an_unrelated_or_known_name():
    assert close_match("zzz", ["test_mse", "model"]) is None
    assert close_match("model", ["model"]) is None
    assert close_match("x", []) is None
    assert did_you_mean("zzz", ["model"]) == ""
