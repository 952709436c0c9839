"""The reference in docs/ covers what the code has: every command and option of the real
parsers (``python flow.py ...`` and ``headwater ...``), and every public member of the client.

Commands, options and client names are read from the code, so a new command (or option, or
client property) fails this test until its page documents it.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import FlowSpec, step

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
COMMANDS = DOCS / "commands"
CLIENT = DOCS / "client"
TOP_LEVEL_PAGE = COMMANDS / "options.md"


class DocsFlow(FlowSpec):
    """A flow without parameters: its parser has every command and only the common options."""

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


# --- reading the parsers ------------------------------------------------------------------------


def flow_parser() -> argparse.ArgumentParser:
    from headwater.cli.main import build_parser

    return build_parser(DocsFlow)  # no command named: every command module registers


def console_parser() -> argparse.ArgumentParser:
    from headwater.cli import console

    return console.build_parser()


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def own_options(parser: argparse.ArgumentParser) -> list[str]:
    """Option strings of the parser itself (not its subcommands), without -h/--help."""
    out = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        out.extend(s for s in action.option_strings if s.startswith("--"))
    return out


def positionals(parser: argparse.ArgumentParser) -> list[str]:
    """How each positional argument is shown in usage (its metavar, else its name)."""
    out = []
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        metavar = action.metavar
        if isinstance(metavar, tuple):
            metavar = " ".join(metavar)
        out.append(metavar or action.dest.upper())
    return out


def walk(name: str, parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    """(what, text the page must contain) for a command and its nested subcommands."""
    for option in own_options(parser):
        yield f"option {option} of '{name}'", option
    for shown in positionals(parser):
        yield f"argument {shown} of '{name}'", shown
    for sub_name, sub in subcommands(parser).items():
        yield f"subcommand '{name} {sub_name}'", f"{name} {sub_name}"
        yield from walk(f"{name} {sub_name}", sub)


def mentions(page: str, text: str) -> bool:
    """``text`` appears as a whole word (``--tag`` is not found inside ``--tags``)."""
    return re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", page) is not None


def missing_from(page_path: Path, wanted: list[tuple[str, str]]) -> list[str]:
    if not page_path.is_file():
        return [f"{page_path.relative_to(REPO)} does not exist"]
    page = page_path.read_text(encoding="utf-8")
    return [
        f"{page_path.relative_to(REPO)}: {what}"
        for what, text in wanted
        if not mentions(page, text)
    ]


def flow_decorator_options() -> list[str]:
    """``--branch``, ``--production``...: top-level options flow decorators add."""
    try:
        from headwater.core.flow_decorators import registered_flow_decorators
    except ImportError:
        return []
    return [
        f"--{opt.name}" for deco in registered_flow_decorators().values() for opt in deco.options
    ]


# --- commands -----------------------------------------------------------------------------------


def test_every_flow_command_has_a_page_with_every_option():
    commands = subcommands(flow_parser())
    assert {"run", "resume", "show", "check", "dump", "logs", "tag", "step"} <= set(commands)
    problems = []
    for name, parser in commands.items():
        problems += missing_from(COMMANDS / f"{name}.md", list(walk(name, parser)))
    assert not problems, "undocumented:\n" + "\n".join(problems)


def test_every_headwater_subcommand_has_a_page_with_every_option():
    problems = []
    for name, parser in subcommands(console_parser()).items():
        problems += missing_from(COMMANDS / f"{name}.md", list(walk(name, parser)))
    assert not problems, "undocumented:\n" + "\n".join(problems)


def test_top_level_options_are_documented():
    wanted = [(f"top-level option {o}", o) for o in own_options(flow_parser())]
    wanted += [(f"flow decorator option {o}", o) for o in flow_decorator_options()]
    wanted += [(f"headwater option {o}", o) for o in own_options(console_parser())]
    problems = missing_from(TOP_LEVEL_PAGE, wanted)
    assert not problems, "undocumented:\n" + "\n".join(problems)


def test_the_pages_for_commands_to_come_are_written():
    # card (issue 5) and metaflow-compat (issue 4) may land after these pages: keep them ready.
    for name in ("card", "ui", "metaflow-compat"):
        assert (COMMANDS / f"{name}.md").is_file(), name


# --- client -------------------------------------------------------------------------------------


def client_exports() -> dict[str, object]:
    import headwater.client as client

    return {name: getattr(client, name) for name in client.__all__}


def public_members(cls: type) -> list[str]:
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):  # a NamedTuple: its fields
        return list(cls._fields)
    return [name for name in dir(cls) if not name.startswith("_")]


def test_every_client_class_has_a_page_with_every_member():
    problems = []
    classes = {n: o for n, o in client_exports().items() if inspect.isclass(o)}
    assert {"Metaflow", "Flow", "Run", "Step", "Task", "DataArtifact"} <= set(classes)
    for name, cls in classes.items():
        page_path = CLIENT / f"{name}.md"
        if not page_path.is_file():
            problems.append(f"{page_path.relative_to(REPO)} does not exist")
            continue
        page = page_path.read_text(encoding="utf-8")
        for member in public_members(cls):
            if not re.search(rf"`\.?{re.escape(member)}\b", page):
                problems.append(f"{page_path.relative_to(REPO)}: `{member}` of {name}")
    assert not problems, "undocumented:\n" + "\n".join(problems)


def test_every_client_function_is_documented():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CLIENT.glob("*.md")))
    functions = [n for n, o in client_exports().items() if inspect.isfunction(o)]
    assert {"namespace", "get_namespace", "metadata", "get_metadata"} <= set(functions)
    missing = [n for n in functions if not re.search(rf"`{re.escape(n)}\(", pages)]
    assert not missing, f"client functions without a section in docs/client: {missing}"


# --- decorators ---------------------------------------------------------------------------------

DECORATORS = DOCS / "decorators"


def builtin_decorators() -> dict[str, type]:
    """Every decorator headwater registers (step and flow), by name; not those tests define."""
    from headwater.core.decorators import all_step_decorators

    found = dict(all_step_decorators())
    found.update(flow_decorator_classes())
    return {n: c for n, c in found.items() if c.__module__.startswith("headwater.")}


def flow_decorator_classes() -> dict[str, type]:
    from headwater.core.flow_decorators import registered_flow_decorators

    return registered_flow_decorators()


def argument_table(page: str) -> dict[str, str]:
    """``{argument: default as written}`` from the page's ``## Arguments`` table."""
    section = page.split("\n## Arguments\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]*)` \|", section, re.M)
    return dict(rows)


def test_every_decorator_has_a_page_with_every_argument_and_its_default():
    import ast

    decorators = builtin_decorators()
    assert {"retry", "catch", "timeout", "resources", "environment", "card", "project"} <= set(
        decorators
    )
    problems = []
    for name, cls in sorted(decorators.items()):
        path = DECORATORS / f"{name}.md"
        if not path.is_file():
            problems.append(f"{path.relative_to(REPO)} does not exist (@{name} is registered)")
            continue
        page = path.read_text(encoding="utf-8")
        if not page.startswith(f"# `@{name}`\n"):
            problems.append(f"{path.relative_to(REPO)}: the title is not `@{name}`")
        if "\n## Arguments\n" not in page:
            problems.append(f"{path.relative_to(REPO)}: no '## Arguments' table")
            continue
        documented = argument_table(page)
        for arg, default in cls.defaults.items():
            if arg not in documented:
                problems.append(f"{path.relative_to(REPO)}: argument `{arg}` is not in the table")
                continue
            try:
                written = ast.literal_eval(documented[arg])
            except (ValueError, SyntaxError):
                written = documented[arg]
            if written != default or type(written) is not type(default):
                problems.append(
                    f"{path.relative_to(REPO)}: `{arg}` defaults to {default!r} in the code, "
                    f"`{documented[arg]}` on the page"
                )
        for arg in set(documented) - set(cls.defaults):
            problems.append(f"{path.relative_to(REPO)}: `{arg}` is not an argument of @{name}")
    assert not problems, "decorator pages disagree with the code:\n" + "\n".join(problems)


def test_the_decorator_check_reads_the_table():
    page = (
        "# `@x`\n\n## Arguments\n\n| argument | default | what |\n|---|---|---|\n"
        "| `times` | `3` | how many |\n| `var` | `None` | where |\n\n## More\n\n| `no` | `1` |\n"
    )
    assert argument_table(page) == {"times": "3", "var": "None"}


# --- the index and links ------------------------------------------------------------------------


def test_the_index_links_every_page():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    pages = sorted(COMMANDS.glob("*.md")) + sorted(CLIENT.glob("*.md"))
    pages += sorted((DOCS / "decorators").glob("*.md"))
    unlinked = [str(p.relative_to(DOCS)) for p in pages if f"({p.relative_to(DOCS)})" not in index]
    assert not unlinked, f"docs/README.md does not link: {unlinked}"


@pytest.mark.parametrize(
    "page",
    [REPO / "README.md", *sorted(DOCS.glob("*.md")), *sorted(DOCS.glob("*/*.md"))],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_relative_links_point_at_files(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (page.parent / target).exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(REPO)} links to missing files: {broken}"


def _requires_python() -> str:
    """The lowest Python pyproject.toml allows, e.g. ``3.10``."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^requires-python = ">=(\d+\.\d+)"$', text, re.M).group(1)


def test_readme_keeps_the_quick_start_and_has_the_guide():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = (
        "## Quick start\n\n"
        f"On a machine with Python {_requires_python()} or newer and `make`:\n\n"
        "```\n"
        "make demo    # creates .venv, installs headwater, runs the example flows, reads results "
        "back\n"
        "make test    # creates .venv with the test extras and runs the whole test suite\n"
        "```\n"
    )
    assert quick_start in readme
    for needed in ("resume", "tag add", "NBRunner", "dump", "logs", "namespace(", "docs/README.md"):
        assert needed in readme, needed


def test_readme_says_how_to_use_headwater_in_your_own_project():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it in your own project\n", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "python3 -m venv .venv",
        "source .venv/bin/activate",
        "pip install -e /path/to/headwater",
        "pip wheel --no-deps -w dist /path/to/headwater",
        "pip install dist/headwater-",
        "python flow.py run",
    ):
        assert needed in section, needed
    assert f"Python {_requires_python()} or newer" in section


def test_make_demo_installs_headwater_without_the_test_extras():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    demo = re.search(r"^demo: (.*)$", makefile, re.M).group(1).split()
    stamps = {
        m.group(1): m.group(2) for m in re.finditer(r"^(\S+): .*\n((?:\t.*\n)+)", makefile, re.M)
    }
    recipe = "".join(stamps[d] for d in demo if d in stamps)
    assert "pip install --quiet -e .\n" in recipe
    assert "[test]" not in recipe


def test_the_architecture_page_is_in_the_repository():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/architecture.md)" in readme
    assert "../shared" not in readme  # nothing outside the repository
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for package in ("core", "serde", "datastore", "metadata_store", "runtime", "client", "cli"):
        assert f"`{package}`" in page, package
