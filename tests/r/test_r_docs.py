"""Every function the R package exports is documented in docs/r, and those pages are linked
from the reference index. (Reads files only: runs without R.)"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def exports() -> list[str]:
    text = (REPO / "r" / "NAMESPACE").read_text(encoding="utf-8")
    return re.findall(r"^export\(\"?([^\")]+)\"?\)$", text, re.M)


def test_every_export_of_the_r_package_has_a_section():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "docs" / "r").glob("*.md"))
    names = exports()
    assert {"metaflow", "step", "run", "flow_client", "task_client", "current"} <= set(names)
    missing = [n for n in names if f"`{n}" not in pages]
    assert not missing, f"R functions without a section in docs/r: {missing}"


def test_the_r_pages_are_linked_from_the_index():
    index = (REPO / "docs" / "README.md").read_text(encoding="utf-8")
    pages = sorted((REPO / "docs" / "r").glob("*.md"))
    unlinked = [p.name for p in pages if f"(r/{p.name})" not in index]
    assert not unlinked, unlinked
