"""Card components: what a step appends to ``current.card``.

``Markdown``, ``Table``, ``Image``, ``Artifact``, ``VegaChart``, ``ProgressBar`` and ``Error``
follow Metaflow's ``metaflow.cards`` components. Each renders to a fragment of HTML in which
every piece of user content is escaped. A component that cannot render (bad input, a failing
conversion) shows an error box in its place; it never breaks the card or fails the task. Work
that may fail is deferred to ``render()`` or caught in the constructor and shown later.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Sequence
from html import escape

from headwater.cards.markdown import render_markdown
from headwater.cards.preview import inline_html, preview_html, type_name
from headwater.cards.render import error_box, exception_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

TABLE_MAX_ROWS = 100  # rows Table.from_dataframe keeps when truncating
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class CardComponent:
    """Base of every component: subclasses implement ``render() -> str`` (safe HTML).

    Metaflow calls this ``MetaflowCardComponent``; the name is exported too.
    """

    type = "component"

    def render(self) -> str:  # pragma: no cover - every component overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} card component>"


MetaflowCardComponent = CardComponent


def render_component(component: Any) -> str:
    """The HTML of one component, or an error box in its place when it cannot render.

    A value that is not a component is shown as an artifact preview.
    """
    if not isinstance(component, CardComponent):
        return f'<div class="hw-component">{preview_html(component)}</div>'
    name = type(component).__name__
    try:
        html = component.render()
    except Exception as ex:  # noqa: BLE001 - one broken component must not break the card
        return error_box(
            f"{name} could not be rendered: {type(ex).__name__}: {ex}", exception_text(ex)
        )
    if not isinstance(html, str):
        return error_box(f"{name}.render() returned {type(html).__name__}, not an HTML string")
    return f'<div class="hw-component hw-c-{escape(str(component.type))}">{html}</div>'


def render_components(components: Iterable[Any]) -> str:
    return "\n".join(render_component(c) for c in components)


class Markdown(CardComponent):
    """Text written in Markdown (a safe subset: see :mod:`headwater.cards.markdown`)."""

    type = "markdown"

    def __init__(self, text: str | None = None) -> None:
        self.text = "" if text is None else text

    def update(self, text: str | None = None) -> None:
        self.text = "" if text is None else text

    def render(self) -> str:
        return f'<div class="hw-md">{render_markdown(str(self.text))}</div>'


class Artifact(CardComponent):
    """A preview of any value (as the default card shows artifacts), with an optional name."""

    type = "artifact"

    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True) -> None:
        self.artifact = artifact
        self.name = name
        self.compressed = compressed  # accepted for Metaflow compatibility

    def update(self, artifact: Any) -> None:
        self.artifact = artifact

    def render(self) -> str:
        title = f'<h3 class="hw-name">{escape(str(self.name))}</h3>' if self.name else ""
        return f'<div class="hw-artifact">{title}{preview_html(self.artifact)}</div>'


class Table(CardComponent):
    """Rows of cells; a cell is a value (shown escaped) or another component."""

    type = "table"

    def __init__(
        self,
        data: Sequence[Sequence[Any]] | None = None,
        headers: Sequence[Any] | None = None,
        disable_updates: bool = False,
    ) -> None:
        self._rows: list[list[Any]] = [list(r) for r in (data or [])]
        self._headers = [str(h) for h in (headers or [])]
        self._note: str | None = None
        self.disable_updates = disable_updates

    @classmethod
    def from_dataframe(
        cls, dataframe: Any = None, truncate: bool = True, max_rows: int = TABLE_MAX_ROWS
    ) -> Table:
        """A table of a pandas DataFrame: its index and columns; first ``max_rows`` rows when
        ``truncate`` (the table notes how many there are in all)."""
        table = cls()
        if dataframe is None:
            return table
        if not (hasattr(dataframe, "columns") and hasattr(dataframe, "itertuples")):
            table._note = (
                f"Table.from_dataframe needs a pandas DataFrame, got {type_name(dataframe)}"
            )
            return table
        n = len(dataframe)
        frame = dataframe.iloc[:max_rows] if truncate and n > max_rows else dataframe
        index_name = dataframe.index.name
        table._headers = ["" if index_name is None else str(index_name)]
        table._headers += [str(c) for c in dataframe.columns]
        table._rows = [
            [label, *row]
            for label, row in zip(
                frame.index, frame.itertuples(index=False, name=None), strict=True
            )
        ]
        if len(frame) < n:
            table._note = f"first {len(frame):,} of {n:,} rows shown"
        return table

    def update(self, data: Sequence[Sequence[Any]]) -> None:
        if not self.disable_updates:
            self._rows = [list(r) for r in data]

    def render(self) -> str:
        if self._note and not self._rows:
            return error_box(self._note)
        head = "".join(f"<th>{escape(h)}</th>" for h in self._headers)
        thead = f"<thead><tr>{head}</tr></thead>" if self._headers else ""
        body = []
        for row in self._rows:
            cells = []
            for cell in row:
                html = render_component(cell) if isinstance(cell, CardComponent) else None
                cells.append(f"<td>{html if html is not None else inline_html(cell)}</td>")
            body.append(f"<tr>{''.join(cells)}</tr>")
        note = f'<div class="hw-meta">{escape(self._note)}</div>' if self._note else ""
        return (
            f'<div class="hw-scroll"><table class="hw-table">{thead}'
            f"<tbody>{''.join(body)}</tbody></table></div>{note}"
        )


def _image_bytes(src: Any) -> tuple[bytes, str]:
    """(bytes, mime type) from PNG/JPEG/GIF bytes, a PIL image or a matplotlib figure/axes."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        for magic, mime in _IMAGE_MAGIC:
            if data.startswith(magic):
                return data, mime
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return data, "image/webp"
        raise ValueError("the bytes are not a PNG, JPEG, GIF or WebP image")
    module = type(src).__module__ or ""
    if module.startswith("PIL") and hasattr(src, "save"):
        buf = io.BytesIO()
        src.save(buf, format="PNG")
        return buf.getvalue(), "image/png"
    figure = src
    if not hasattr(figure, "savefig"):
        figure = getattr(src, "figure", None) or (
            src.get_figure() if hasattr(src, "get_figure") else None
        )
    if figure is not None and hasattr(figure, "savefig"):
        buf = io.BytesIO()
        figure.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue(), "image/png"
    raise TypeError(
        f"Image takes PNG/JPEG/GIF bytes, a PIL image or a matplotlib figure, not {type_name(src)}"
    )


class Image(CardComponent):
    """A picture, embedded in the card as a ``data:`` URI.

    ``src`` is PNG, JPEG, GIF or WebP bytes, a PIL image or a matplotlib figure (converted
    at once, so the figure may be closed afterwards). A source that cannot be converted shows
    an error box where the image would be.
    """

    type = "image"

    def __init__(self, src: Any = None, label: str | None = None, disable_updates: bool = True):
        self.label = label
        self.disable_updates = disable_updates
        self._data: bytes | None = None
        self._mime = "image/png"
        self._error: str | None = None
        self._set(src)

    def _set(self, src: Any) -> None:
        self._data, self._error = None, None
        if src is None:
            return
        try:
            self._data, self._mime = _image_bytes(src)
        except Exception as ex:  # noqa: BLE001 - shown in the card, never raised in the step
            self._error = f"{type(ex).__name__}: {ex}"

    @classmethod
    def from_pil_image(cls, pilimage: Any, label: str | None = None) -> Image:
        return cls(pilimage, label=label)

    @classmethod
    def from_matplotlib(cls, plot: Any, label: str | None = None) -> Image:
        return cls(plot, label=label)

    def update(self, image: Any, label: str | None = None) -> None:
        if not self.disable_updates:
            self._set(image)
            if label is not None:
                self.label = label

    def render(self) -> str:
        caption = f'<div class="hw-caption">{escape(str(self.label))}</div>' if self.label else ""
        if self._error:
            return error_box(f"Image could not be shown: {self._error}") + caption
        if self._data is None:
            return f'<div class="hw-muted">(no image)</div>{caption}'
        uri = f"data:{self._mime};base64,{base64.b64encode(self._data).decode('ascii')}"
        alt = escape(str(self.label or "image"))
        return f'<figure class="hw-image"><img src="{uri}" alt="{alt}">{caption}</figure>'


def json_for_html(value: Any) -> str:
    """JSON text that is safe inside a ``<script>`` block (no ``<``, ``>`` or ``&``)."""
    text = json.dumps(value, indent=2, default=str, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class VegaChart(CardComponent):
    """A Vega-Lite chart from its spec (a dict).

    Cards work offline and ship no JavaScript, so the chart is drawn as a static SVG when the
    spec is a simple one (one bar/line/point/area mark over inline data, see
    :mod:`headwater.cards.vega_svg`); otherwise the spec is shown as readable JSON. Either
    way the spec itself is embedded in a ``<script type="application/vnd.vegalite+json">``
    block for tools that can render it.
    """

    type = "vega"

    def __init__(self, spec: dict[str, Any] | None = None, show_controls: bool = False) -> None:
        self.spec = spec or {}
        self.show_controls = show_controls

    @classmethod
    def from_altair_chart(cls, altair_chart: Any) -> VegaChart:
        return cls(altair_chart.to_dict())

    def update(self, spec: dict[str, Any] | None = None) -> None:
        if spec is not None:
            self.spec = spec

    def render(self) -> str:
        from headwater.cards.vega_svg import vega_svg

        spec_json = json.dumps(self.spec, indent=2, default=str, ensure_ascii=False)
        embedded = (
            f'<script type="application/vnd.vegalite+json">{json_for_html(self.spec)}</script>'
        )
        svg = vega_svg(self.spec)
        if svg is not None:
            shown = (
                f'<div class="hw-chart">{svg}</div><details><summary>Vega-Lite spec</summary>'
                f"<pre>{escape(spec_json)}</pre></details>"
            )
        else:
            shown = (
                '<div class="hw-meta">Vega-Lite chart (drawn only for simple specs in a card '
                "that works offline); its spec:</div>"
                f"<pre>{escape(spec_json)}</pre>"
            )
        return f'<div class="hw-vega">{shown}{embedded}</div>'


class ProgressBar(CardComponent):
    """How far something got: ``value`` of ``max``, with a label and a unit."""

    type = "progress"

    def __init__(
        self,
        max: float = 100,
        label: str | None = None,
        value: float = 0,
        unit: str | None = None,
        metadata: str | None = None,
    ) -> None:
        self.max = max
        self.label = label
        self.value = value
        self.unit = unit
        self.metadata = metadata

    def update(self, new_value: float, metadata: str | None = None) -> None:
        self.value = new_value
        if metadata is not None:
            self.metadata = metadata

    def render(self) -> str:
        top, value = float(self.max), float(self.value)
        share = 0.0 if top <= 0 else min(max(value / top, 0.0), 1.0)
        unit = f" {self.unit}" if self.unit else ""
        text = f"{value:g} / {top:g}{unit} ({share:.0%})"
        label = f"<div>{escape(str(self.label))}</div>" if self.label else ""
        meta = f'<div class="hw-meta">{escape(str(self.metadata))}</div>' if self.metadata else ""
        return (
            f'<div class="hw-progress">{label}<div class="hw-track" role="progressbar" '
            f'aria-valuemin="0" aria-valuemax="{top:g}" aria-valuenow="{value:g}">'
            f'<div class="hw-fill" style="width:{share * 100:.1f}%"></div></div>'
            f'<div class="hw-meta">{escape(text)}</div>{meta}</div>'
        )


class Error(CardComponent):
    """An error shown in a red box: an exception (with its traceback) or a message."""

    type = "error"

    def __init__(self, exception: BaseException | str, title: str | None = None) -> None:
        self.exception = exception
        self.title = title

    def render(self) -> str:
        ex = self.exception
        if isinstance(ex, BaseException):
            headline = f"{type(ex).__name__}: {ex}" if str(ex) else type(ex).__name__
            detail = exception_text(ex) if ex.__traceback__ is not None else None
        else:
            headline, detail = str(ex), None
        if self.title:
            detail = headline + ("\n\n" + detail if detail else "")
            headline = str(self.title)
        return error_box(headline, detail)
