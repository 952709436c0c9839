"""Artifact previews: readable, bounded, escaped, and never raising."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from headwater.cards.preview import describe, inline_html, preview_html


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_dataframe_shows_shape_dtypes_and_first_rows():
    df = pd.DataFrame({"n": np.arange(40), "f": np.arange(40) / 4, "b": np.arange(40) > 20})
    html = preview_html(df)
    assert "DataFrame · 40 rows × 3 columns" in html
    assert "<th>int64</th><th>float64</th><th>bool</th>" in html
    body = html.split("<tbody>")[1]
    assert body.count("<tr>") == 10  # the first 10 rows only
    assert "first 10 of 40 rows shown" in html
    assert "<td>9</td><td>2.25</td><td>False</td>" in html
    assert "<td>10</td>" not in html


def _cells(html: str, column: int) -> list[str]:
    rows = html.split("<tbody>")[1].split("</tr>")[:-1]
    return [re.findall(r"<td>([^<]*)</td>", row)[column] for row in rows]


def test_float_columns_are_rounded_alike():
    df = pd.DataFrame(
        {
            "score": [0.5488135039273248, 0.7151893663724195, 0.25],
            "price": [64589.41099943, 43758.7211, 1.5],
            "count": [1.0, 2.0, 3.0],
            "tiny": [1e-07, 2.5e-06, np.nan],
            "big": [1.5e12, -3e9, np.inf],
        }
    )
    html = preview_html(df)
    assert _cells(html, 0) == ["0.5488", "0.7152", "0.2500"]  # at most 4 decimals
    assert _cells(html, 1) == ["64589.41", "43758.72", "1.50"]  # fewer for large values
    assert _cells(html, 2) == ["1.0", "2.0", "3.0"]  # as few as show the values
    assert _cells(html, 3) == ["1.000e-07", "2.500e-06", "NaN"]
    assert _cells(html, 4) == ["1.500e+12", "-3.000e+09", "inf"]
    series = preview_html(pd.Series([0.123456789, 2.0], dtype="float32"))
    assert [c for c in re.findall(r"<td>([^<]*)</td>", series)] == ["0.1235", "2.0000"]


def test_dataframe_rows_setting_and_wide_frames():
    wide = pd.DataFrame({f"c{i}": [i] for i in range(30)})
    html = preview_html(wide, max_rows=3)
    assert "first 20 of 30 columns shown" in html
    assert "<th>c19</th>" in html and "<th>c20</th>" not in html


def test_dataframe_content_is_escaped():
    df = pd.DataFrame({"<b>col</b>": ["<script>alert(1)</script>"]})
    html = preview_html(df)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_series():
    html = preview_html(pd.Series(np.arange(15), name="s"))
    assert "Series · 15 values · dtype int64" in html
    assert "first 10 of 15 values shown" in html


def test_ndarray_shape_dtype_and_excerpt():
    html = preview_html(np.arange(10000, dtype=np.float32).reshape(100, 100))
    assert "ndarray · shape (100, 100) · dtype float32 · 10,000 elements" in html
    assert "..." in html  # an excerpt, not every element
    assert len(html) < 2000


def test_scalars_and_short_strings_as_they_are():
    assert _text(preview_html(42)).strip() == "42"
    assert _text(preview_html(0.5)).strip() == "0.5"
    assert _text(preview_html(None)).strip() == "None"
    assert _text(preview_html("hello world")).strip() == "hello world"
    assert "3.5" in preview_html(np.float64(3.5))


def test_long_strings_are_cut():
    html = preview_html("x" * 50_000)
    assert "str · 50,000 characters" in html
    assert "cut to fit" in html
    assert len(html) < 3000


def test_nested_containers_are_limited_in_items_and_depth():
    nested = {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}, "many": list(range(10_000))}
    html = preview_html(nested)
    assert "dict · 2 keys" in html
    assert "9,970 more" in html
    assert "{…}" in html  # depth limit
    assert len(html) < 3000


def test_a_failing_repr_is_described_not_raised():
    class Bad:
        def __repr__(self):
            raise RuntimeError("no repr")

    html = preview_html(Bad())
    assert "repr() failed: RuntimeError: no repr" in html


def test_big_reprs_are_cut():
    class Big:
        def __repr__(self):
            return "<big>" * 10_000

    html = preview_html(Big())
    assert "<big>" not in html and "&lt;big&gt;" in html
    assert len(html) < 25_000


def test_bytes():
    html = preview_html(b"\x00\x01abc" * 1000)
    assert "bytes · 5,000 bytes" in html


def test_inline_previews_for_table_cells():
    assert inline_html("<i>x</i>") == "&lt;i&gt;x&lt;/i&gt;"
    assert inline_html(1.0) == "1.0"
    assert inline_html(np.int64(3)) == "3"
    assert inline_html({"a": [1, 2]}) == "{&#x27;a&#x27;: [1, 2]}"
    assert inline_html(pd.DataFrame({"a": [1]})) == (
        '<span class="hw-muted">DataFrame · 1 row × 1 column</span>'
    )
    assert len(inline_html("y" * 5000)) < 600


def test_describe():
    assert describe([1, 2, 3]) == "list · 3 items"
    assert describe(np.zeros((2, 3))) == "ndarray · shape (2, 3) · dtype float64"
    assert describe(object()) == "object"
