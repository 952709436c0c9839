"""Each card component: what it shows, that user content is escaped, and that a component
that cannot render shows an error box instead of breaking the card."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib

import pandas as pd
import pytest

from headwater.cards import (
    Artifact,
    CardComponent,
    Error,
    Image,
    Markdown,
    MetaflowCardComponent,
    ProgressBar,
    Table,
    VegaChart,
)
from headwater.cards.components import json_for_html, render_component


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --- Markdown / Artifact ------------------------------------------------------------------------


def test_markdown_renders_and_updates():
    md = Markdown("# Hi <b>there</b>")
    assert md.render() == '<div class="hw-md"><h1>Hi &lt;b&gt;there&lt;/b&gt;</h1></div>'
    md.update("*new*")
    assert "<em>new</em>" in md.render()
    assert Markdown().render() == '<div class="hw-md"></div>'


def test_artifact_shows_name_and_preview_escaped():
    html = Artifact({"k": "<script>alert(1)</script>"}, name="<cfg>").render()
    assert '<h3 class="hw-name">&lt;cfg&gt;</h3>' in html
    assert "<script>" not in html and "dict · 1 key" in html


# --- Table --------------------------------------------------------------------------------------


def test_table_rows_headers_and_component_cells():
    html = Table([[1, "<i>x</i>"], [2.5, Markdown("**b**")]], headers=["n", "<v>"]).render()
    assert "<thead><tr><th>n</th><th>&lt;v&gt;</th></tr></thead>" in html
    assert "<td>1</td><td>&lt;i&gt;x&lt;/i&gt;</td>" in html
    assert "<td>2.5</td>" in html
    assert "<strong>b</strong>" in html  # a component in a cell renders itself


def test_table_cell_component_that_fails_shows_an_error_in_its_cell():
    class Broken(CardComponent):
        def render(self):
            raise ValueError("bad cell")

    html = Table([["ok", Broken()]]).render()
    assert "<td>ok</td>" in html
    assert "Broken could not be rendered: ValueError: bad cell" in html


def test_table_from_dataframe_truncates_and_says_so():
    df = pd.DataFrame({"a": range(250), "b": ["<x>"] * 250})
    html = Table.from_dataframe(df).render()
    assert "<th></th><th>a</th><th>b</th>" in html
    assert html.count("<tr>") == 101  # header + 100 rows
    assert "first 100 of 250 rows shown" in html
    assert "&lt;x&gt;" in html and "<x>" not in html
    full = Table.from_dataframe(df, truncate=False).render()
    assert full.count("<tr>") == 251


def test_table_from_something_else_shows_an_error():
    html = render_component(Table.from_dataframe([1, 2]))
    assert "hw-error" in html and "needs a pandas DataFrame" in html


def test_table_update():
    t = Table([[1]])
    t.update([[2], [3]])
    assert "<td>2</td>" in t.render() and "<td>1</td>" not in t.render()
    frozen = Table([[1]], disable_updates=True)
    frozen.update([[2]])
    assert "<td>1</td>" in frozen.render()


# --- Image --------------------------------------------------------------------------------------


def _data_uri(html: str) -> bytes:
    m = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert m, html
    return base64.b64decode(m.group(1))


def test_image_from_png_bytes_is_an_inline_data_uri():
    png = tiny_png()
    html = Image(png, label="<dot>").render()
    assert _data_uri(html) == png
    assert 'alt="&lt;dot&gt;"' in html and "&lt;dot&gt;</div>" in html
    assert "http" not in html


def test_image_from_bad_bytes_shows_an_error_box():
    html = render_component(Image(b"not an image"))
    assert "Image could not be shown" in html and "not a PNG" in html


def test_image_from_something_unknown_shows_an_error_box():
    html = render_component(Image(object()))
    assert "Image could not be shown" in html


def test_image_from_a_pil_like_image_and_a_matplotlib_like_figure():
    png = tiny_png()

    class FakePil:
        def save(self, buf, format):
            assert format == "PNG"
            buf.write(png)

    FakePil.__module__ = "PIL.Image"

    class FakeFigure:
        def savefig(self, buf, format, bbox_inches):
            assert format == "png"
            buf.write(png)

    class FakeAxes:
        figure = FakeFigure()

    assert _data_uri(Image.from_pil_image(FakePil()).render()) == png
    assert _data_uri(Image.from_matplotlib(FakeFigure()).render()) == png
    assert _data_uri(Image.from_matplotlib(FakeAxes(), label="ax").render()) == png


def test_image_conversion_errors_are_kept_for_the_card_not_raised():
    class Exploding:
        def savefig(self, *a, **k):
            raise OSError("disk on fire")

    image = Image.from_matplotlib(Exploding())  # does not raise in the step
    assert "OSError: disk on fire" in image.render()


def test_image_with_real_matplotlib():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2, 3])
    html = Image.from_matplotlib(fig).render()
    plt.close(fig)
    assert _data_uri(html).startswith(b"\x89PNG")


def test_image_with_real_pil():
    pil = pytest.importorskip("PIL.Image")
    html = Image.from_pil_image(pil.new("RGB", (3, 3), "red")).render()
    assert _data_uri(html).startswith(b"\x89PNG")


# --- VegaChart ----------------------------------------------------------------------------------

BAR = {
    "title": "<counts>",
    "mark": "bar",
    "data": {"values": [{"k": "a", "v": 3}, {"k": "</script><script>alert(1)", "v": 5}]},
    "encoding": {
        "x": {"field": "k", "type": "nominal"},
        "y": {"field": "v", "type": "quantitative"},
    },
}


def test_vega_simple_bar_is_drawn_as_svg_with_the_spec_embedded_safely():
    html = VegaChart(BAR).render()
    assert "<svg" in html and html.count("<rect") == 2
    assert "&lt;counts&gt;" in html
    assert "<script>alert" not in html
    m = re.search(r'<script type="application/vnd.vegalite\+json">(.*?)</script>', html, re.S)
    assert json.loads(m.group(1)) == BAR  # the embedded spec round-trips


def test_vega_line_chart_with_numeric_x():
    spec = {
        "mark": {"type": "line"},
        "data": {"values": [{"t": i, "y": i * i} for i in range(20)]},
        "encoding": {
            "x": {"field": "t", "type": "quantitative"},
            "y": {"field": "y", "type": "quantitative"},
        },
    }
    html = VegaChart(spec).render()
    assert "<polyline" in html and html.count("<circle") == 20


def test_vega_complex_spec_is_shown_as_readable_json():
    spec = {"layer": [{"mark": "bar"}], "data": {"url": "https://example.org/d.json"}}
    html = VegaChart(spec).render()
    assert "<svg" not in html
    assert "Vega-Lite chart" in html and "&quot;layer&quot;" in html


def test_json_for_html_cannot_close_a_script_block():
    text = json_for_html({"a": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><b>&"}


# --- ProgressBar / Error ------------------------------------------------------------------------


def test_progress_bar_update_and_bounds():
    bar = ProgressBar(max=200, label="<epochs>", value=10, unit="steps")
    bar.update(50)
    html = bar.render()
    assert "width:25.0%" in html and "50 / 200 steps (25%)" in html
    assert "&lt;epochs&gt;" in html
    assert "width:100.0%" in ProgressBar(max=10, value=99).render()
    assert "width:0.0%" in ProgressBar(max=0, value=5).render()


def test_error_from_an_exception_shows_its_traceback():
    try:
        raise KeyError("<missing>")
    except KeyError as ex:
        html = Error(ex).render()
    assert "KeyError: &#x27;&lt;missing&gt;&#x27;" in html
    assert "Traceback (most recent call last)" in html


def test_error_from_a_message_with_a_title():
    html = Error("disk full", title="Upload failed").render()
    assert "Upload failed" in html and "disk full" in html and "hw-error" in html


# --- rendering safety ---------------------------------------------------------------------------


def test_a_component_that_raises_becomes_an_error_box():
    class Broken(CardComponent):
        def render(self):
            raise RuntimeError("<boom>")

    html = render_component(Broken())
    assert 'class="hw-error"' in html
    assert "Broken could not be rendered: RuntimeError: &lt;boom&gt;" in html
    assert "headwater/cards/components.py" not in html  # headwater's own frames are left out


def test_a_component_returning_something_else_is_reported():
    class Wrong(CardComponent):
        def render(self):
            return 42

    assert "returned int, not an HTML string" in render_component(Wrong())


def test_plain_values_appended_are_previewed():
    html = render_component("<script>alert(1)</script>")
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_metaflow_name_for_the_base_class():
    assert MetaflowCardComponent is CardComponent
