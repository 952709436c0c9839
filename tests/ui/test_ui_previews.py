"""Artifact previews: bounded reprs, and shapes and first rows of frames and arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from headwater.ui.previews import MAX_REPR, preview, short_repr


def test_scalars_and_short_strings_as_they_are():
    assert preview(42).text == "42"
    p = preview("hello")
    assert p.text == "'hello'" and p.summary == "str · 5 characters"


def test_long_values_are_cut():
    assert len(preview("x" * 10_000).text) <= MAX_REPR
    big = preview(list(range(10_000)))
    assert big.summary == "list · 10000 items" and len(big.text) <= MAX_REPR


def test_a_failing_repr_does_not_raise():
    class Bad:
        def __repr__(self):
            raise RuntimeError("boom")

    text = short_repr(Bad())
    assert "Bad" in text and len(text) < 100


def test_dataframe_shape_dtypes_and_first_rows():
    df = pd.DataFrame({"a": range(100), "b": ["x"] * 100})
    p = preview(df)
    assert p.summary == "DataFrame · 100 rows × 2 columns"
    assert p.text.startswith("dtypes: a: int64, b: ")
    assert p.header == ("", "a", "b")
    assert len(p.rows) == 5 and p.rows[0] == ("0", "0", "x")


def test_array_shape_dtype_and_excerpt():
    p = preview(np.arange(1000, dtype=np.float32).reshape(10, 100))
    assert p.summary == "array · 10 × 100 · dtype float32"
    assert "..." in p.text and len(p.text) <= MAX_REPR


def test_series():
    p = preview(pd.Series([1.5, 2.5]))
    assert p.summary == "Series · 2 values · dtype float64"
