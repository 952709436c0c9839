"""``tag add|remove|replace|list`` handlers, driven through argparse with a stand-in context."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from headwater.cli import cmd_tag
from headwater.exceptions import CommandLineError, NamespaceMismatch, ObjectNotFound, TagError


def _load_run_builder():
    name = "run_builder"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "client" / "run_builder.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fixtures = _load_run_builder()

SYSTEM = ["python_version:3.12.0", "runtime:dev"]


@pytest.fixture
def builder(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_USER", "alice")
    b = _fixtures.RunBuilder(tmp_path / ".headwater")
    yield b
    b.close()


@pytest.fixture
def cli(builder):
    return _fixtures.CommandRunner(builder.root, cmd_tag.register)


def user_tags(builder, run):
    return set(builder.meta.get_run(run.flow, run.run_id).tags)


def test_add_remove_replace(builder, cli):
    run = builder.linear(tags=["keep"])
    code, out, _ = cli("tag", "add", "--run-id", run.run_id, "new one", "two")
    assert code == 0
    assert user_tags(builder, run) == {"keep", "new one", "two"}
    text = out.decode()
    assert text.startswith("Operation successful. New tags:\n")
    assert "*new one*" in text and "*keep*" in text and "user:alice" in text
    assert "only *tags* can be modified" in text

    cli("tag", "remove", "--run-id", run.run_id, "two")
    assert user_tags(builder, run) == {"keep", "new one"}

    cli("tag", "replace", "new one", "renamed", "--run-id", run.run_id)  # OLD NEW pairs
    assert user_tags(builder, run) == {"keep", "renamed"}
    cli("tag", "replace", "--run-id", run.run_id, "--remove", "keep", "--add", "k2", "--add", "k3")
    assert user_tags(builder, run) == {"renamed", "k2", "k3"}


def test_replace_needs_both_sides(builder, cli):
    run = builder.linear(tags=["a"])
    with pytest.raises(CommandLineError, match="OLD NEW pairs"):
        cli("tag", "replace", "--run-id", run.run_id, "a", "b", "c")
    with pytest.raises(CommandLineError, match="tag add"):
        cli("tag", "replace", "--run-id", run.run_id, "--add", "b")
    with pytest.raises(CommandLineError, match="tag remove"):
        cli("tag", "replace", "--run-id", run.run_id, "--remove", "a")
    with pytest.raises(CommandLineError):
        cli("tag", "replace", "--run-id", run.run_id)
    assert user_tags(builder, run) == {"a"}


def test_system_tags_are_protected(builder, cli):
    run = builder.linear()
    with pytest.raises(TagError):
        cli("tag", "remove", "--run-id", run.run_id, "user:alice")
    with pytest.raises(TagError):
        cli("tag", "add", "--run-id", run.run_id, "runtime:x")


def test_run_id_required_with_a_hint(builder, cli):
    with pytest.raises(CommandLineError, match="has no run in namespace 'user:alice'"):
        cli("tag", "add", "x")
    run = builder.linear()
    with pytest.raises(CommandLineError) as err:
        cli("tag", "add", "x")
    assert f"the latest run of HelloFlow in namespace 'user:alice' is {run.run_id}" in str(
        err.value
    )


def test_unknown_run(builder, cli):
    builder.linear()
    with pytest.raises(ObjectNotFound) as err:
        cli("tag", "add", "--run-id", "42", "x")
    msg = str(err.value)
    assert msg.startswith("run 42 of HelloFlow not found")
    assert "tag list" in msg and "Flow('HelloFlow').runs()" in msg
    with pytest.raises(CommandLineError, match="not a run id"):
        cli("tag", "add", "--run-id", "1/start", "x")


def test_tagging_a_run_of_another_user_needs_its_namespace(builder, cli):
    run = builder.linear(user="bob")
    with pytest.raises(NamespaceMismatch) as err:
        cli("tag", "add", "--run-id", run.run_id, "x")
    assert "--namespace user:bob" in str(err.value)
    cli("tag", "add", "--run-id", run.run_id, "--namespace", "user:bob", "x")
    cli("tag", "add", "--run-id", f"HelloFlow/{run.run_id}", "--namespace", "", "y")
    assert user_tags(builder, run) == {"x", "y"}


def test_list_one_run(builder, cli):
    run = builder.linear(tags=["b", "a"], user="bob")
    code, out, _ = cli("tag", "list", "--run-id", run.run_id)  # any namespace
    assert code == 0
    words = out.decode().split("-" * 56)[1].split()
    assert sorted(words) == ["*a*", "*b*", "python_version:3.12.0", "runtime:dev", "user:bob"]
    _, out2, _ = cli("tag", "list", run.run_id)
    assert out2 == out
    _, out, _ = cli("tag", "list", run.run_id, "--hide-system-tags")
    assert "user:bob" not in out.decode() and "*a*" in out.decode()
    with pytest.raises(CommandLineError, match="not both"):
        cli("tag", "list", run.run_id, "--run-id", run.run_id)


def test_list_flat_and_all_runs(builder, cli):
    builder.linear(tags=["mine"])
    builder.linear(tags=["theirs"], user="bob")
    _, out, _ = cli("tag", "list", "--flat")
    assert out.decode().splitlines() == sorted(
        ["mine", "theirs", "user:alice", "user:bob", *SYSTEM]
    )
    _, out, _ = cli("tag", "list", "--flat", "--my-runs")
    assert out.decode().splitlines() == sorted(["mine", "user:alice", *SYSTEM])
    _, out, _ = cli("tag", "list", "--flat", "--all", "--hide-system-tags")
    assert out.decode().splitlines() == ["mine", "theirs"]


def test_list_grouped(builder, cli):
    one = builder.linear(tags=["shared", "only-one"])
    two = builder.linear(tags=["shared"])
    _, out, _ = cli("tag", "list", "--group-by-run", "--hide-system-tags")
    text = out.decode()
    assert f"For run HelloFlow/{two.run_id}" in text
    assert f"For run HelloFlow/{one.run_id}" in text
    _, out, _ = cli("tag", "list", "--group-by-tag", "--hide-system-tags")
    lines = out.decode().splitlines()
    i = lines.index("For tag *shared*")
    assert sorted(lines[i + 1].split()) == [f"HelloFlow/{one.run_id}", f"HelloFlow/{two.run_id}"]
    j = lines.index("For tag *only-one*")
    assert lines[j + 1].strip() == f"HelloFlow/{one.run_id}"


def test_list_without_a_run_groups_tags_by_run(builder, cli):
    one = builder.linear(tags=["shared", "only-one"])
    two = builder.linear(tags=["shared"], user="bob")
    _, out, _ = cli("tag", "list")
    text = out.decode()
    assert "only *tags* can be modified" in text
    first, second = (
        text.split(f"For run HelloFlow/{one.run_id}\n")[1],
        text.split(f"For run HelloFlow/{two.run_id}\n")[1],
    )
    assert "*only-one*" in first.split("For run")[0] and "user:alice" in first.split("For run")[0]
    assert "*only-one*" not in second.split("For run")[0]
    assert "user:bob" in second.split("For run")[0]


def test_hide_system_tags_hides_their_header_too(builder, cli):
    run = builder.linear(tags=["mine"])
    for argv in ((), ("--run-id", run.run_id), ("--group-by-tag",)):
        _, out, _ = cli("tag", "list", *argv, "--hide-system-tags")
        text = out.decode()
        assert "System tags" not in text and "-" * 56 not in text, argv
        assert "*mine*" in text and "user:alice" not in text


def test_list_quiet_is_parseable(builder, cli):
    run = builder.linear(tags=["t1"])
    _, out, _ = cli("tag", "list", "--run-id", run.run_id, quiet=True)
    assert out.decode() == (
        f"HelloFlow/{run.run_id} ; {','.join(sorted(['user:alice', *SYSTEM]))} ; t1\n"
    )
    _, out, _ = cli("tag", "list", "--group-by-tag", "--hide-system-tags", quiet=True)
    assert out.decode() == f"user:t1 ; HelloFlow/{run.run_id}\n"


def test_list_option_conflicts(builder, cli):
    builder.linear()
    for argv in (
        ("--all", "--my-runs"),
        ("--group-by-tag", "--group-by-run"),
        ("--flat", "--group-by-run"),
    ):
        with pytest.raises(CommandLineError):
            cli("tag", "list", *argv)


def test_list_flow_never_run(builder, cli):
    with pytest.raises(ObjectNotFound, match="HelloFlow has never been run"):
        cli("tag", "list")


def test_tag_needs_an_action(builder, cli):
    with pytest.raises(CommandLineError):
        cli("tag")


def test_columns_fit_the_width():
    words = [f"tag-{i:03d}" for i in range(40)]
    lines = cmd_tag._columns(words)
    assert all(len(line) <= cmd_tag.WIDTH for line in lines)
    assert sorted(w for line in lines for w in line.split()) == words
    assert cmd_tag._columns(["x" * 300]) == ["x" * 300]
