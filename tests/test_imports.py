"""What importing headwater pulls in: the layers of DESIGN.md, and the lean paths that keep
`import headwater`, a client lookup and `python flow.py run` fast.

Each check runs in a fresh interpreter and looks at ``sys.modules``; none times anything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parent / "flows"

# Modules that cost milliseconds to import and that the lean paths do without.
HEAVY = ("dataclasses", "inspect", "typing", "pathlib", "socket", "tempfile", "ctypes")


def modules_after(code: str, cwd: Path | None = None, env: dict | None = None) -> set[str]:
    """The modules loaded after running ``code`` in a new interpreter."""
    script = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env=env,
    )
    return set(out.stdout.splitlines()[-1].split())


def package_modules(package: str) -> list[str]:
    root = Path(__file__).resolve().parents[1] / "src" / "headwater" / package
    return [
        f"headwater.{package}.{p.stem}" for p in sorted(root.glob("*.py")) if p.stem != "__init__"
    ]


def test_import_headwater_does_no_work():
    loaded = modules_after("import headwater")
    heavy = {"sqlite3", "zstandard", "xxhash", "numpy", *HEAVY}
    assert sorted(loaded & heavy) == []
    assert [m for m in loaded if m.startswith("headwater.")] == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("client", "headwater.runtime"),  # the client never imports the runtime
        ("datastore", "headwater.metadata_store"),  # storage and metadata never meet
        ("metadata_store", "headwater.datastore"),
    ],
)
def test_layers(package, forbidden):
    code = "\n".join(f"import {m}" for m in package_modules(package))
    loaded = modules_after(code)
    assert not [m for m in loaded if m == forbidden or m.startswith(forbidden + ".")]


def test_client_lookup_loads_only_what_it_needs(client, run_flow):
    assert run_flow("linear.py", "run").returncode == 0
    code = (
        "from headwater import Flow, namespace\n"
        "namespace(None)\n"
        "assert Flow('LinearFlow').latest_successful_run.id == '1'\n"
    )
    loaded = modules_after(code, cwd=client.parent)
    lean = {
        *HEAVY,
        "json",
        "pickle",
        "headwater.datastore.content_store",
        "headwater.datastore.local_storage",
        "contextlib",
    }
    # The sqlite3 package imports datetime (~3.5 ms); the store uses the C module _sqlite3.
    assert sorted(loaded & {*lean, "sqlite3", "datetime"}) == []
    assert "_sqlite3" in loaded


def test_run_command_path_avoids_heavy_imports():
    # Everything the runtime process imports before its first task, flow module included.
    code = (
        f"path = {str(FLOWS / 'linear.py')!r}\n"
        "exec(compile(open(path).read(), path, 'exec'), {'__name__': 'flowfile'})\n"
        "import headwater.cli.main, headwater.cli.cmd_run, headwater.cli.cmd_graph\n"
        "import headwater.runtime.launch, headwater.runtime.scheduler, headwater.runtime.zygote\n"
        "from headwater.core.decorators import parse_decospec\n"
        "parse_decospec('retry:times=1')\n"
        "import headwater.metadata_store.sqlite\n"
    )
    loaded = modules_after(code)
    assert sorted(loaded & set(HEAVY)) == []
