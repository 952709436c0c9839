"""The Markdown subset: what is rendered, and that everything else is escaped."""

from __future__ import annotations

import pytest

from headwater.cards.markdown import render_markdown


def test_headings_and_paragraphs():
    html = render_markdown("# Title\n\nfirst line\nsame paragraph\n\n### Small")
    assert html == "<h1>Title</h1><p>first line same paragraph</p><h3>Small</h3>"


def test_emphasis_code_and_strike():
    html = render_markdown("**b** __b2__ *i* _i2_ ~~s~~ `x < 1` snake_case_name")
    assert "<strong>b</strong>" in html and "<strong>b2</strong>" in html
    assert "<em>i</em>" in html and "<em>i2</em>" in html
    assert "<del>s</del>" in html
    assert "<code>x &lt; 1</code>" in html
    assert "snake_case_name" in html  # underscores inside words are not emphasis


def test_markup_inside_code_spans_is_left_alone():
    assert render_markdown("`**not bold**`") == "<p><code>**not bold**</code></p>"


def test_lists_nested_and_numbered():
    html = render_markdown("- a\n- b\n  - b1\n  - b2\n- c\n\n1. one\n2. two")
    assert html == (
        "<ul><li>a</li><li>b<ul><li>b1</li><li>b2</li></ul></li><li>c</li></ul>"
        "<ol><li>one</li><li>two</li></ol>"
    )


def test_fenced_code_is_escaped_verbatim():
    html = render_markdown("```python\nif a < b:\n    print('<b>')\n```")
    assert html == (
        '<pre><code class="language-python">if a &lt; b:\n    print(&#x27;&lt;b&gt;&#x27;)'
        "</code></pre>"
    )


def test_quote_and_rule():
    assert render_markdown("> quoted *text*\n\n---") == (
        "<blockquote><p>quoted <em>text</em></p></blockquote><hr>"
    )


def test_safe_links_are_kept():
    html = render_markdown("[docs](https://example.org/a?b=1&c=2) [rel](./x.html) [m](mailto:a@b)")
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">docs</a>' in html
    assert '<a href="./x.html"' in html and '<a href="mailto:a@b"' in html


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,x"],
)
def test_dangerous_links_become_text(url):
    html = render_markdown(f"[click]({url})")
    assert "<a " not in html and "href" not in html
    assert "click" in html


def test_raw_html_and_scripts_are_text():
    text = '<script>alert(1)</script> <img src=x onerror="alert(2)"> <a href="x">a</a>'
    html = render_markdown(text)
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=&quot;alert(2)&quot;" in html


def test_markup_cannot_break_out_of_attributes():
    html = render_markdown('[x](http://a/"onmouseover="alert(1))')
    assert 'onmouseover="' not in html
    html = render_markdown("[*x*](http://a/*b*_c_)")
    assert '<a href="http://a/*b*_c_"' in html  # no markup inside the URL


def test_images_only_from_inline_data():
    data = "data:image/png;base64,iVBORw0KGgo="
    assert f'<img src="{data}" alt="plot">' in render_markdown(f"![plot]({data})")
    html = render_markdown("![remote](https://example.org/a.png)")
    assert "<img" not in html and "remote" in html  # a card never fetches from the network


@pytest.mark.parametrize("text", ["", "\x00", "*", "**", "[", "](", "```", "- ", "#", "`", "\r\n"])
def test_odd_input_never_raises(text):
    assert isinstance(render_markdown(text), str)
