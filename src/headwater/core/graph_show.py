"""What ``python flow.py show`` prints: the steps in order, docstrings and transitions."""

from __future__ import annotations

from headwater.core.graph import FlowGraph, GraphNode, NodeType

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def _case(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def describe_transition(node: GraphNode) -> str:
    """One line: where the step goes next, as ``show`` prints it."""
    if node.type is NodeType.END:
        return "(end)"
    if not node.has_next_call:
        return "=> ? (no self.next call)"
    targets = ", ".join(node.out_funcs) or "?"
    if node.is_switch:
        cases = ", ".join(f"{_case(c)} -> {t}" for c, t in node.switch_cases)
        return f"=> switch on '{node.condition or '?'}': {cases}"
    if node.foreach_param is not None:
        return f"=> {targets} (foreach over '{node.foreach_param}')"
    if node.num_parallel is not None:
        return f"=> {targets} (parallel, num_parallel={node.num_parallel})"
    return f"=> {targets}"


def format_show(graph: FlowGraph) -> str:
    """The text of ``python flow.py show``: each step in show order, its doc and transition."""
    indent = "    "
    lines = [graph.name]
    if graph.doc:
        lines.extend(indent + line if line else "" for line in graph.doc.splitlines())
    for node in graph:
        lines.append("")
        lines.append(f"Step {node.name}")
        doc_lines = node.doc.splitlines() if node.doc else ["?"]
        lines.extend(indent + line if line else "" for line in doc_lines)
        if node.is_join:
            lines.append(f"{indent}joins {', '.join(node.in_funcs) or '?'}")
        lines.append(indent + describe_transition(node))
    return "\n".join(lines) + "\n"
