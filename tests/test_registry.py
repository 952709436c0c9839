"""Plugins by name: built-ins and installed packages alike, found through entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from headwater import registry
from headwater.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_table_is_exactly_pyprojects_entry_points():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project.get("entry-points", {})
    for group, table in registry.BUILTIN.items():
        assert declared.get(registry.GROUPS[group], {}) == table, group
    ours = {g for g in declared if g.startswith("headwater.")}
    assert ours <= set(registry.GROUPS.values())


def test_every_builtin_loads():
    for group, table in registry.BUILTIN.items():
        for name in table:
            assert registry.load(group, name) is not None, (group, name)


def test_an_unknown_name_is_a_one_line_error_with_the_known_ones():
    with pytest.raises(PluginError) as e:
        registry.load("executors", "warp-drive", "executor")
    msg = str(e.value)
    assert "\n" not in msg and "no executor named 'warp-drive'" in msg and "fork" in msg


def _installed_plugin(tmp_path: Path) -> dict:
    """A package installed the way pip would (a module and a dist-info with entry points),
    offering a step decorator, an executor alias and a `headwater` subcommand."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "hwplugin.py").write_text(
        "from headwater import StepDecorator\n"
        "class Shout(StepDecorator):\n"
        "    name = 'shout'\n"
        "    defaults = {'word': 'hey'}\n"
        "    def environment(self):\n"
        "        return {'SHOUTED': self.attributes['word'].upper()}\n"
        "def register(sub):\n"
        "    p = sub.add_parser('hello', help='say hello')\n"
        "    p.set_defaults(func=lambda args, out: out.echo('hello from a plugin') or 0)\n"
    )
    info = site / "hwplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hwplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[headwater.step_decorators]\nshout = hwplugin:Shout\n\n"
        "[headwater.executors]\n"
        "spawn = headwater.runtime.subprocess_executor:SubprocessExecutor\n\n"
        "[headwater.commands]\nhello = hwplugin\n"
    )
    return {"PYTHONPATH": str(site)}


def test_an_installed_package_adds_a_decorator_an_executor_and_a_command(
    tmp_path, run_flow, hw_root
):
    env = _installed_plugin(tmp_path)
    flow = tmp_path / "env_flow.py"
    flow.write_text(
        "import os, sys\n"
        "from headwater import FlowSpec, step\n"
        "class EnvFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.shouted = os.environ.get('SHOUTED')\n"
        "        self.argv = list(sys.argv)\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    EnvFlow()\n"
    )
    proc = run_flow(flow, "--with", "shout:word=yo", "run", "--executor", "spawn", env=env)
    assert proc.returncode == 0, proc.stderr
    from headwater import Run, metadata, namespace

    metadata(f"local@{hw_root}")
    namespace(None)
    start = Run("EnvFlow/1")["start"].task
    assert start.data.shouted == "YO"
    assert "step" in start.data.argv  # ran by the plugin's executor name
    hello = subprocess.run(
        [sys.executable, "-m", "headwater.cli.console", "hello"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
    )
    assert hello.returncode == 0 and "hello from a plugin" in hello.stdout
