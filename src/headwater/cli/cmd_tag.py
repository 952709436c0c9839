"""``tag add|remove|replace|list``: change and show the user tags of runs (as Metaflow's).

add, remove and replace work on a run in the namespace (default: your runs,
``user:<username>``; ``--namespace NS`` to change it, ``--namespace ''`` for any run).
``tag list`` shows every run's tags by default, under each run.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence

from headwater import config
from headwater.client.flow import Flow
from headwater.client.provider import Connection, connection_of
from headwater.client.run import Run
from headwater.core.tags import is_system_tag
from headwater.exceptions import CommandLineError, NamespaceMismatch, ObjectNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

WIDTH = 120
HEADER = (
    "System tags and *tags*; only *tags* can be modified",
    "-" * 56,
)


def register(sub: argparse._SubParsersAction, flow_cls: type | None = None) -> None:
    p = sub.add_parser("tag", help="add, remove, replace or list the tags of runs")
    actions = p.add_subparsers(dest="tag_action", metavar="ACTION", parser_class=type(p))
    actions.required = True

    def run_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--run-id", default=None, metavar="RUN", help="the run to tag (required)")
        q.add_argument(
            "--namespace",
            dest="user_namespace",
            default=None,
            metavar="NS",
            help="find the run in this namespace (default: user:<you>; '' for any run)",
        )

    q = actions.add_parser("add", help="add tags to a run")
    run_options(q)
    q.add_argument("tags", nargs="+", metavar="TAG")
    q.set_defaults(handler=handle_add)

    q = actions.add_parser("remove", help="remove tags from a run")
    run_options(q)
    q.add_argument("tags", nargs="+", metavar="TAG")
    q.set_defaults(handler=handle_remove)

    q = actions.add_parser(
        "replace",
        help="replace tags of a run atomically (removals first, then additions)",
        description="Replace tags: give OLD NEW pairs, or --remove OLD --add NEW (repeatable).",
    )
    run_options(q)
    q.add_argument(
        "pairs", nargs="*", metavar="OLD NEW", help="a tag to remove, then its replacement"
    )
    q.add_argument("--add", dest="tags_to_add", action="append", default=[], metavar="TAG")
    q.add_argument("--remove", dest="tags_to_remove", action="append", default=[], metavar="TAG")
    q.set_defaults(handler=handle_replace)

    q = actions.add_parser("list", help="list the tags of one run, or of all runs")
    q.add_argument("arg_run_id", nargs="?", default=None, metavar="RUN")
    q.add_argument("--run-id", default=None, metavar="RUN", help="only this run")
    q.add_argument("--all", dest="list_all", action="store_true", help="every run (default)")
    q.add_argument("--my-runs", action="store_true", help="only runs in your namespace")
    q.add_argument("--hide-system-tags", action="store_true", help="only user tags")
    q.add_argument("--group-by-tag", action="store_true", help="list runs under each tag")
    q.add_argument(
        "--group-by-run",
        action="store_true",
        help="list tags under each run (the default for more than one run)",
    )
    q.add_argument("--flat", action="store_true", help="one tag per line, no grouping")
    q.set_defaults(handler=handle_list)


# --- finding the run ----------------------------------------------------------------------------


def _connection(ctx: Any) -> Connection:
    return connection_of(ctx.stores())


def _user_namespace(value: str | None) -> str | None:
    if value is None:
        return f"user:{config.username()}"
    return value or None


def _run_id(flow: str, run_id: str) -> str:
    parts = run_id.strip("/").split("/")
    if len(parts) == 2 and parts[0] == flow:
        parts = parts[1:]
    if len(parts) != 1 or not parts[0]:
        raise CommandLineError(f"{run_id!r} is not a run id of {flow}: give it as --run-id 3")
    return parts[0]


def _run_to_tag(ctx: Any, conn: Connection, run_id: str | None, ns: str | None) -> Run:
    flow = ctx.flow_name
    where = f"in namespace {ns!r}" if ns else "at all"
    if run_id is None:
        latest = conn.metadata.latest_run(flow, [ns] if ns else [])
        if latest is None:
            raise CommandLineError(
                f"give the run to tag with --run-id: {flow} has no run {where} yet"
            )
        raise CommandLineError(
            f"give the run to tag with --run-id: the latest run of {flow} {where} is "
            f"{latest.run_id}"
        )
    rid = _run_id(flow, run_id)
    try:
        return Run(f"{flow}/{rid}", _current_namespace=ns, _conn=conn)
    except ObjectNotFound:
        raise ObjectNotFound(
            f"run {rid} of {flow} not found: list runs and their tags with 'tag list', or "
            f"with Flow('{flow}').runs() in Python"
        ) from None
    except NamespaceMismatch:
        rec = conn.metadata.get_run(flow, rid)
        owner = f"user:{rec.user}" if rec is not None else "its owner's namespace"
        raise NamespaceMismatch(
            f"run {flow}/{rid} is not in namespace {ns!r} (it belongs to {owner}): "
            f"add --namespace {owner} to tag it"
        ) from None


def _echo_result(ctx: Any, run: Run) -> None:
    ctx.out.echo("Operation successful. New tags:")
    _print_groups(ctx, {run.pathspec: run.tags}, skip_titles=True, header=True)


def handle_add(args: argparse.Namespace, ctx: Any) -> int:
    conn = _connection(ctx)
    run = _run_to_tag(ctx, conn, args.run_id, _user_namespace(args.user_namespace))
    run.add_tags(args.tags)
    _echo_result(ctx, run)
    return 0


def handle_remove(args: argparse.Namespace, ctx: Any) -> int:
    conn = _connection(ctx)
    run = _run_to_tag(ctx, conn, args.run_id, _user_namespace(args.user_namespace))
    run.remove_tags(args.tags)
    _echo_result(ctx, run)
    return 0


def handle_replace(args: argparse.Namespace, ctx: Any) -> int:
    pairs = list(args.pairs)
    if len(pairs) % 2:
        raise CommandLineError(
            f"tag replace takes OLD NEW pairs, got an odd number of tags ({len(pairs)}): "
            "add the missing tag, or use --remove OLD --add NEW"
        )
    removes = [*pairs[0::2], *args.tags_to_remove]
    adds = [*pairs[1::2], *args.tags_to_add]
    if not removes and not adds:
        raise CommandLineError("give tags to replace: tag replace OLD NEW --run-id RUN")
    if not removes:
        raise CommandLineError("give at least one tag to remove; to only add tags use 'tag add'")
    if not adds:
        raise CommandLineError("give at least one tag to add; to only remove tags use 'tag remove'")
    conn = _connection(ctx)
    run = _run_to_tag(ctx, conn, args.run_id, _user_namespace(args.user_namespace))
    run.replace_tags(removes, adds)
    _echo_result(ctx, run)
    return 0


# --- list ---------------------------------------------------------------------------------------


def handle_list(args: argparse.Namespace, ctx: Any) -> int:
    if args.run_id is not None and args.arg_run_id is not None:
        raise CommandLineError("give the run either with --run-id or as an argument, not both")
    run_id = args.run_id if args.run_id is not None else args.arg_run_id
    if args.list_all and args.my_runs:
        raise CommandLineError("--all and --my-runs cannot be used together")
    if args.group_by_tag and args.group_by_run:
        raise CommandLineError("--group-by-tag and --group-by-run cannot be used together")
    if args.flat and (args.group_by_tag or args.group_by_run):
        raise CommandLineError("--flat cannot be used with --group-by-tag or --group-by-run")
    flow = ctx.flow_name
    conn = _connection(ctx)
    if run_id is not None and not (args.list_all or args.my_runs):
        runs = [_run_to_tag(ctx, conn, run_id, None)]
    else:
        ns = f"user:{config.username()}" if args.my_runs else None
        try:
            flow_obj = Flow(flow, _namespace_check=False, _current_namespace=ns, _conn=conn)
            runs = list(flow_obj.runs())
        except ObjectNotFound:
            raise ObjectNotFound(f"{flow} has never been run: there are no tags to list") from None

    def shown(run: Run) -> frozenset[str]:
        return frozenset(run.user_tags) if args.hide_system_tags else run.tags

    if args.flat:
        tags = sorted(set().union(*(shown(r) for r in runs)) if runs else set())
        for tag in tags:
            ctx.out.echo(tag)
        if not _same_terminal(ctx.out):
            # Metaflow's (hidden) --flat lists on stderr after one line: scripts written
            # against it read the list there.
            ctx.out.info(f"Tags of {', '.join(r.pathspec for r in runs) or flow}:")
            for tag in tags:
                ctx.out.info(tag)
        return 0
    if args.group_by_tag:
        by_tag: dict[str, list[str]] = {}
        for run in runs:
            for tag in shown(run):
                by_tag.setdefault(tag, []).append(run.pathspec)
        _print_by_tag(ctx, by_tag, header=not args.hide_system_tags)
        return 0
    header = not args.hide_system_tags  # it explains system tags, which are not shown then
    one = run_id is not None and not (args.list_all or args.my_runs)
    groups = {r.pathspec: shown(r) for r in runs}
    _print_groups(ctx, groups, skip_titles=one, header=header)
    return 0


# --- output -------------------------------------------------------------------------------------


def _same_terminal(out: Any) -> bool:
    """True when stdout and stderr are both terminals (a person reads them as one)."""
    try:
        return bool(out.out.isatty() and out.err.isatty())
    except (AttributeError, ValueError):
        return False


def _columns(words: Sequence[str], width: int = WIDTH) -> list[str]:
    """Words in column-major order, left-aligned, in lines no wider than ``width``."""
    if not words:
        return []
    size = max(len(w) for w in words)
    ncols = max(1, (width + 4) // (size + 4))
    nrows = -(-len(words) // ncols)
    lines = []
    for r in range(nrows):
        row = [words[c * nrows + r] for c in range(ncols) if c * nrows + r < len(words)]
        lines.append("    ".join(w.ljust(size) for w in row).rstrip())
    return lines


def _marked(tags: Iterable[str]) -> list[str]:
    """Sorted, with user tags shown as *tag*."""
    return [t if is_system_tag(t) else f"*{t}*" for t in sorted(tags)]


def _print_groups(
    ctx: Any, groups: Mapping[str, frozenset[str] | set[str]], skip_titles: bool, header: bool
) -> None:
    out = ctx.out
    if out.quiet:  # parseable: "runs ; system,tags ; user,tags"
        for title, tags in groups.items():
            system = sorted(t for t in tags if is_system_tag(t))
            user = sorted(t for t in tags if not is_system_tag(t))
            out.echo(" ; ".join([title, ",".join(system), ",".join(user)]))
        return
    if header:
        out.echo("\n".join(["", *HEADER, ""]))
    for title, tags in groups.items():
        lines = [] if skip_titles else [f"For run {title}"]
        lines += _columns(_marked(tags)) or ["(no tags)"]
        out.echo("\n".join([*lines, ""]))


def _print_by_tag(ctx: Any, by_tag: dict[str, list[str]], header: bool) -> None:
    out = ctx.out
    if out.quiet:  # parseable: "user:tag ; runs" / "system:tag ; runs"
        for tag in sorted(by_tag):
            kind = "system" if is_system_tag(tag) else "user"
            out.echo(f"{kind}:{tag} ; {','.join(by_tag[tag])}")
        return
    if header:
        out.echo("\n".join(["", *HEADER, ""]))
    if not by_tag:
        out.echo("(no tags)")
    for tag in sorted(by_tag, key=lambda t: (is_system_tag(t), t)):
        label = tag if is_system_tag(tag) else f"*{tag}*"
        out.echo("\n".join([f"For tag {label}", *_columns(by_tag[tag]), ""]))
