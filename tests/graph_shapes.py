"""The graph shapes every executor and every store setup runs: flow files under tests/flows that
declare the end step's expected artifacts (``EXPECTED = {...}``)."""

from __future__ import annotations

import ast
from pathlib import Path

FLOWS = Path(__file__).resolve().parent / "flows"


def shape_files() -> list[Path]:
    """Flow files that declare the end step's expected artifacts (EXPECTED = {...})."""
    out = []
    for path in sorted(FLOWS.glob("*.py")):
        if "EXPECTED" in path.read_text():
            out.append(path)
    return out


def expected_of(path: Path) -> tuple[str, dict]:
    tree = ast.parse(path.read_text())
    expected = None
    flow_name = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EXPECTED" for t in node.targets
        ):
            expected = ast.literal_eval(node.value)
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id == "FlowSpec" for b in node.bases
        ):
            flow_name = node.name
    assert expected is not None and flow_name is not None, path
    return flow_name, expected


SHAPES = shape_files()
