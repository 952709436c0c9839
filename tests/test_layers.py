"""The layers of docs/architecture.md, checked over every import of every module.

Every ``import`` and ``from ... import`` in src/headwater counts, wherever it is (module
level, inside a function, under ``if TYPE_CHECKING:``): a module may import only from its own
layer or lower ones. ``from headwater import Name`` counts as an import of the module that
defines Name (the package exports its names lazily). The one sanctioned upward call is
``FlowSpec()`` handing the command line to the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import headwater

SRC = Path(headwater.__file__).resolve().parent

LAYERS = {
    # 0: authoring, records, errors, settings, the plugin registry; no I/O at import
    "core": 0,
    "record": 0,
    "exceptions": 0,
    "config": 0,
    "settings": 0,
    "registry": 0,
    # 1: values <-> bytes
    "serde": 1,
    # 2: the stores, and the one resolver from settings to them
    "datastore": 2,
    "metadata_store": 2,
    "stores": 2,
    # 3: running, reading back
    "runtime": 3,
    "client": 3,
    # 4: optional parts
    "plugins": 4,
    "cards": 4,
    "runner": 4,
    "metaflow_compat": 4,
    # 5: composition roots
    "cli": 5,
    "ui": 5,
    "service": 5,
}

SANCTIONED = {("headwater.core.flowspec", "headwater.cli.main")}  # FlowSpec() -> the CLI

# Pairs that never meet, whatever their layers.
APART = [
    ("headwater.client", "headwater.runtime"),  # the client never imports the runtime
    ("headwater.datastore", "headwater.metadata_store"),  # the two stores never meet
    ("headwater.metadata_store", "headwater.datastore"),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    name = ".".join(rel.parts)
    return name.removesuffix(".__init__")


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) of every absolute import in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "headwater":
                for a in node.names:
                    target = headwater._EXPORTS.get(a.name, f"headwater.{a.name}")
                    out.append((target, node.lineno))
            else:
                out.append((node.module, node.lineno))
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "headwater" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1])


MODULES = sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_every_package_has_a_layer():
    tops = {p.relative_to(SRC).parts[0].removesuffix(".py") for p in MODULES}
    assert sorted(tops - set(LAYERS)) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_the_layers(path):
    me = _module_name(path)
    mine = _layer(me)
    wrong = []
    for target, line in _imports(path):
        theirs = _layer(target)
        if theirs is None or mine is None or (me, target) in SANCTIONED:
            continue
        if theirs > mine:
            wrong.append(f"line {line}: {me} (layer {mine}) imports {target} (layer {theirs})")
        for a, b in APART:
            if (me == a or me.startswith(a + ".")) and (target == b or target.startswith(b + ".")):
                wrong.append(f"line {line}: {me} imports {target}, which it must never use")
    assert wrong == []


def test_the_checker_sees_function_level_and_type_only_imports(tmp_path):
    # The check must catch what a reviewer would miss: imports hidden in functions.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n"
        "    from headwater.cli.main import run_flow_cli\n"
        "def f():\n"
        "    import headwater.runtime.scheduler\n"
        "    from headwater import Flow\n"
    )
    found = [t for t, _ in _imports(sample)]
    assert found == ["headwater.cli.main", "headwater.runtime.scheduler", "headwater.client.flow"]
