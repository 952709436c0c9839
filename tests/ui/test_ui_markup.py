"""Templates escape every value unless it is Markup; URLs encode each path segment."""

from __future__ import annotations

from headwater.ui.markup import Markup, escape, join, render, url


def test_render_escapes_values_but_not_markup():
    out = render(
        "<p title='{t}'>{body}{frag}</p>",
        t="a'b\"c",
        body="<script>x</script>",
        frag=Markup("<b>ok</b>"),
    )
    assert out == ("<p title='a&#x27;b&quot;c'>&lt;script&gt;x&lt;/script&gt;<b>ok</b></p>")
    assert isinstance(out, Markup)


def test_fragments_are_not_escaped_twice():
    inner = render("<i>{x}</i>", x="&")
    assert render("<p>{inner}</p>", inner=inner) == "<p><i>&amp;</i></p>"


def test_join_escapes_plain_strings():
    assert join(["<a>", Markup("<br>"), 3], sep=Markup(" ")) == "&lt;a&gt; <br> 3"
    assert escape(None) == "None"


def test_url_encodes_segments_so_names_cannot_add_path_parts():
    assert url("task", "F", "1", "a/b", "?x") == "/task/F/1/a%2Fb/%3Fx"
    assert url("flow", "F", tag=["a b", "<c>"], status=None, page=2) == (
        "/flow/F?tag=a+b&tag=%3Cc%3E&page=2"
    )
