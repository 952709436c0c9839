"""``show`` and ``check``: read the graph from the class source without running anything."""

from __future__ import annotations

import argparse

from headwater.cli.context import CliContext
from headwater.exceptions import HeadwaterException, InvalidFlow


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    p = sub.add_parser("show", help="print the flow's steps in order, with docstrings")
    p.set_defaults(handler=handle_show)
    p = sub.add_parser("check", help="check the flow's graph against every rule")
    p.set_defaults(handler=handle_check)


def handle_show(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.core.graph_show import format_show

    ctx.resolve_configs()
    ctx.out.echo(format_show(ctx.graph))
    return 0


def handle_check(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.resolve_configs()
    problems = check_flow(ctx)
    if problems:
        for p in problems:
            ctx.out.error(str(p))
        return 1
    ctx.out.info(f"{ctx.flow_name}: the graph is valid ({len(ctx.graph.nodes)} steps).")
    return 0


def check_flow(ctx: CliContext) -> list[InvalidFlow]:
    from headwater.core.graph_check import check_graph
    from headwater.runtime.launch import check_parameter_names

    problems = list(check_graph(ctx.graph))
    try:
        check_parameter_names(ctx.flow_cls)
    except HeadwaterException as ex:
        problems.append(ex if isinstance(ex, InvalidFlow) else InvalidFlow(str(ex)))
    if problems:
        return problems
    for name in ctx.graph.nodes:
        try:
            for deco in ctx.step_decorators(name):
                deco.step_init(ctx.graph, name)
        except InvalidFlow as ex:
            problems.append(ex)
    return problems
