"""``card get|list|view RUN/STEP[/TASK]``: the HTML cards that ``@card`` rendered for tasks.

``get`` writes one card's HTML to a file or stdout, ``list`` shows the cards of a task (or of
every task of a step), ``view`` copies a card to a temp file, prints its path and opens it in
a browser when a display is available. Paths are relative to the flow, as for ``dump``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from headwater.cli.cmd_inspect import find_tasks
from headwater.cli.main import ArgumentParser
from headwater.exceptions import CardNotFound, CommandLineError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class _IntermixedParser(ArgumentParser):
    """Lets FILE follow the options (``card get 1/start --id x out.html``): plain argparse
    would give the optional positional nothing and reject FILE as unknown."""

    _inside = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._inside:  # parse_known_intermixed_args calls back into this method
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def register(sub: argparse._SubParsersAction, flow_cls: type | None = None) -> None:
    p = sub.add_parser(
        "card",
        help="get, list or view the HTML cards of a task",
        description="The HTML reports that @card rendered for a task (RUN/STEP/TASK, or "
        "RUN/STEP when the step has one task).",
    )
    cmds = p.add_subparsers(
        dest="card_command", metavar="get|list|view", parser_class=_IntermixedParser
    )
    cmds.required = True

    def choose(q: argparse.ArgumentParser) -> None:
        q.add_argument("--type", default=None, help="the card of this type (default, blank...)")
        q.add_argument("--id", default=None, help="the card with this id (@card(id=...))")
        q.add_argument(
            "--hash", default=None, metavar="HASH", help="the card whose hash starts with HASH"
        )
        q.add_argument(
            "--attempt",
            type=int,
            default=None,
            metavar="N",
            help="cards of attempt N (default: the successful attempt, else the latest)",
        )

    q = cmds.add_parser(
        "get",
        help="write a card's HTML to FILE, or to stdout",
        description="Write the HTML of a task's card to FILE (or stdout). With several cards, "
        "choose with --type/--id; otherwise the first one declared is written.",
    )
    q.add_argument("input_path", metavar="RUN/STEP[/TASK]")
    q.add_argument("file", nargs="?", default=None, metavar="FILE")
    choose(q)
    q.set_defaults(handler=handle_get)

    q = cmds.add_parser(
        "list",
        help="list the cards of a task, or of every task of a step",
        description="List the cards (type, id, file) of RUN/STEP/TASK or of every task of "
        "RUN/STEP.",
    )
    q.add_argument("input_path", metavar="RUN/STEP[/TASK]")
    q.add_argument(
        "--as-json",
        action="store_true",
        help="list as JSON: {pathspec, cards: [{hash, id, type, filename}]} per task",
    )
    q.add_argument("--file", default=None, metavar="FILE", help="write the list to FILE as JSON")
    choose(q)
    q.set_defaults(handler=handle_list)

    q = cmds.add_parser(
        "view",
        help="open a card in a web browser (or print where its copy is)",
        description="Copy a card to a temp file and print its path; it is also opened in a "
        "web browser when a display is available.",
    )
    q.add_argument("input_path", metavar="RUN/STEP[/TASK]")
    q.add_argument("--no-open", action="store_true", help="only print the path; open nothing")
    choose(q)
    q.set_defaults(handler=handle_view)


def _cards(task: Any, args: argparse.Namespace) -> list[Any]:
    from headwater.cards.client import get_cards

    cards = list(get_cards(task, id=args.id, type=args.type))
    if args.hash:
        cards = [c for c in cards if c.hash.startswith(args.hash)]
    return cards


def _what(args: argparse.Namespace) -> str:
    wanted = [f"{k} {v!r}" for k, v in (("type", args.type), ("id", args.id)) if v is not None]
    return f"no card with {' and '.join(wanted)}" if wanted else "no card"


def _one_task(ctx: Any, args: argparse.Namespace) -> Any:
    tasks = find_tasks(ctx, args.input_path, args.attempt)
    if len(tasks) > 1:
        ids = ", ".join(t.id for t in tasks[:5]) + (", ..." if len(tasks) > 5 else "")
        raise CommandLineError(
            f"step {tasks[0].parent.pathspec} has {len(tasks)} tasks ({ids}): give "
            f"RUN/STEP/TASK, e.g. {args.input_path.strip('/')}/{tasks[0].id}"
        )
    return tasks[0]


def _one_card(ctx: Any, args: argparse.Namespace) -> Any:
    task = _one_task(ctx, args)
    cards = _cards(task, args)
    if not cards:
        raise CardNotFound(
            f"{task.pathspec} (attempt {task.current_attempt}) has {_what(args)}: list its "
            f"cards with 'card list {args.input_path}', and check the step has @card"
        )
    if len(cards) > 1:
        others = ", ".join(_label(c) for c in cards[1:])
        ctx.out.warn(
            f"{task.pathspec} has {len(cards)} cards; using {_label(cards[0])} "
            f"(others: {others}); choose with --type or --id"
        )
    return cards[0]


def _label(card: Any) -> str:
    return card.type + (f" (id {card.id})" if card.id else "")


def handle_get(args: argparse.Namespace, ctx: Any) -> int:
    card = _one_card(ctx, args)
    html = card.html
    if args.file is None or args.file == "-":
        ctx.out.write_bytes(html.encode("utf-8"), "stdout")
        return 0
    target = Path(args.file)
    _write_text(target, html)
    ctx.out.info(f"Wrote the {_label(card)} card of {card.pathspec} to {target}")
    return 0


def _list_json(tasks: list[Any], args: argparse.Namespace) -> str:
    import json

    listed = [
        {
            "pathspec": task.pathspec,
            "cards": [
                {"hash": c.hash, "id": c.id, "type": c.type, "filename": Path(c.path).name}
                for c in _cards(task, args)
            ],
        }
        for task in tasks
    ]
    return json.dumps(listed[0] if len(listed) == 1 else listed, indent=2)


def _write_text(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise CommandLineError(
            f"could not write {target} ({ex.strerror or ex}): check the directory exists and "
            "is writable"
        ) from None


def handle_list(args: argparse.Namespace, ctx: Any) -> int:
    tasks = find_tasks(ctx, args.input_path, args.attempt)
    out = ctx.out
    if args.as_json or args.file:
        text = _list_json(tasks, args)
        if args.file:
            _write_text(Path(args.file), text + "\n")
        else:
            out.echo(text)
        return 0
    found = 0
    for task in tasks:
        cards = _cards(task, args)
        found += len(cards)
        out.echo(f"{task.pathspec} (attempt {task.current_attempt}):")
        if not cards:
            out.echo("    (no cards)")
        for card in cards:
            out.echo(f"    {card.type:<10} {card.id or '-':<16} {card.path}")
    if not found:
        what = _what(args)
        if len(tasks) == 1:
            raise CardNotFound(f"{tasks[0].pathspec} has {what}: check the step has @card")
        raise CardNotFound(
            f"no task of {tasks[0].parent.pathspec} has a card{what[len('no card') :]}: check "
            "the step has @card"
        )
    return 0


def handle_view(args: argparse.Namespace, ctx: Any) -> int:
    from headwater.cards.client import open_in_browser, write_temp_card

    card = _one_card(ctx, args)
    path = write_temp_card(card.html, f"{card.pathspec.replace('/', '-')}-{card.type}")
    ctx.out.echo(str(path))
    if not args.no_open and open_in_browser(path):
        ctx.out.info(f"Opened the {_label(card)} card of {card.pathspec} in your browser")
    else:
        ctx.out.info(f"Open {path.as_uri()} in a web browser to see the card")
    return 0
