"""Configs end to end: `--config` / `--config-value`, defaults, parsers, errors, decorator
arguments and Parameter defaults read from configs, resume, and reading them back."""

from __future__ import annotations

import ast
import json
import re

import pytest

from headwater import Flow, namespace
from headwater.core.config_value import ConfigValue

SETTINGS = {
    "alpha": 0.25,
    "retries": 2,
    "project": "cfgproj",
    "resources": {"cpu": 3},
}


def _write(path, value) -> None:
    path.write_text(json.dumps(value))


@pytest.fixture
def settings(hw_root):
    """settings.json, the default file of ConfigFlow's cfg, in the flow's working directory."""
    path = hw_root.parent / "settings.json"
    _write(path, SETTINGS)
    return path


def _run_id(proc) -> str:
    m = re.search(r"[Rr]un (\d+) of \w+", proc.stderr)
    assert m, proc.stderr
    return m.group(1)


def _seen(proc) -> dict:
    line = next(ln for ln in proc.stdout.splitlines() if " SEEN " in ln)
    return ast.literal_eval(line.split(" SEEN ", 1)[1])


def _one_line_error(proc) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --- values in steps --------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_file_default_and_default_value_in_steps(run_flow, settings, client, executor):
    proc = run_flow("config_flow.py", "run", "--executor", executor)
    assert proc.returncode == 0, proc.stderr
    assert _seen(proc) == {
        "alpha": 0.25,  # Parameter default from cfg.alpha, typed from the value
        "alpha_type": "float",
        "cpu_attr": 3,
        "cpu_item": 3,
        "mode_env": "default",  # @environment(vars={"MODE": extra.mode})
        "sizes": (1, 2),  # lists become tuples: configs are immutable
        "limit": 20,  # LIMIT = config_expr("cfg.retries * 10")
        "retry_count": 0,
        "project": "cfgproj",  # @project(name=config_expr("cfg.project"))
    }
    namespace(None)
    run = Flow("ConfigFlow")[_run_id(proc)]
    start = run["start"].task.data
    assert start.deco_args["retry"]["times"] == 2
    assert start.deco_args["resources"] == {
        "cpu": 3,
        "gpu": None,
        "memory": 3072,
        "disk": None,
        "shared_memory": None,
    }
    assert "project:cfgproj" in run.system_tags


def test_client_reads_configs_back(run_flow, settings, client):
    proc = run_flow("config_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Flow("ConfigFlow")[_run_id(proc)]
    cfg = run["start"].task.data.cfg
    assert isinstance(cfg, ConfigValue)
    assert cfg == SETTINGS
    assert cfg.resources.cpu == 3 and cfg["resources"]["cpu"] == 3
    assert run.data.cfg == SETTINGS  # the end task sees it too
    assert run.data.extra == {"mode": "default", "sizes": (1, 2)}
    assert run.data.cfg_in_end == SETTINGS  # to_dict(): a plain copy
    assert "cfg" in run["end"].task.data


def test_configs_are_read_only_in_steps(run_flow, settings, client):
    proc = run_flow("config_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    errors = Flow("ConfigFlow")[_run_id(proc)]["start"].task.data.errors
    assert len(errors) == 4
    assert errors[0].startswith("ReadOnlyArtifact: cannot assign self.cfg: it is a config")
    # Changing the value in place is refused as a TypeError too, as in Metaflow.
    assert all(e.startswith("ReadOnlyConfig: ") for e in errors[1:])
    assert "a config is read-only" in errors[1]


def test_config_file_on_the_command_line(run_flow, settings, client):
    other = settings.parent / "other.json"
    _write(other, {**SETTINGS, "alpha": 2, "resources": {"cpu": 1}, "project": "other"})
    proc = run_flow("config_flow.py", "--config", "cfg", "other.json", "run")
    assert proc.returncode == 0, proc.stderr
    seen = _seen(proc)
    assert (seen["alpha"], seen["alpha_type"], seen["cpu_attr"]) == (2, "int", 1)
    assert seen["project"] == "other"


def test_config_values_on_the_command_line(run_flow, settings, client):
    proc = run_flow(
        "config_flow.py",
        "--config-value",
        "cfg",
        json.dumps({**SETTINGS, "retries": 1}),
        "--config-value",
        "extra",
        '{"mode": "cli", "sizes": []}',
        "run",
        "--alpha",
        "7.5",  # a parameter given on the command line beats its config default
    )
    assert proc.returncode == 0, proc.stderr
    seen = _seen(proc)
    assert (seen["alpha"], seen["mode_env"], seen["sizes"], seen["limit"]) == (7.5, "cli", (), 10)


@pytest.mark.parametrize("prefix", ["METAFLOW", "HEADWATER"])
def test_configs_given_in_the_environment(run_flow, settings, client, prefix):
    other = settings.parent / "other.json"
    _write(other, {**SETTINGS, "alpha": 2, "project": "envproj"})
    env = {
        f"{prefix}_FLOW_CONFIG": json.dumps({"cfg": "other.json"}),
        # a value may be given as JSON text or as the JSON value itself
        f"{prefix}_FLOW_CONFIG_VALUE": json.dumps({"extra": {"mode": "env", "sizes": [3]}}),
    }
    proc = run_flow("config_flow.py", "run", env=env)
    assert proc.returncode == 0, proc.stderr
    seen = _seen(proc)
    assert (seen["alpha"], seen["mode_env"], seen["sizes"], seen["project"]) == (
        2,
        "env",
        (3,),
        "envproj",
    )
    # The command line wins over the environment.
    proc = run_flow("config_flow.py", "--config", "cfg", "settings.json", "run", env=env)
    assert _seen(proc)["project"] == "cfgproj"


def test_resume_ignores_configs_in_the_environment(run_flow, settings, client):
    origin = run_flow("config_flow.py", "run", env={"FAIL_END": "1"})
    assert origin.returncode == 1
    env = {"METAFLOW_FLOW_CONFIG_VALUE": json.dumps({"extra": {"mode": "x", "sizes": []}})}
    resumed = run_flow("config_flow.py", "resume", env=env)
    assert resumed.returncode == 0, resumed.stderr


def test_retry_times_from_the_config_is_in_force(run_flow, settings, client):
    _write(settings, {**SETTINGS, "retries": 2, "fail_attempts": 2})
    proc = run_flow("config_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    assert _seen(proc)["retry_count"] == 2  # two failed attempts, the third succeeded
    _write(settings, {**SETTINGS, "retries": 1, "fail_attempts": 2})
    assert run_flow("config_flow.py", "run").returncode == 1  # one retry is not enough


# --- parsers and required ---------------------------------------------------------------------


def test_parsers_and_required(run_flow, client):
    proc = run_flow("config_parser_flow.py", "--config-value", "must", '{"k": [1]}', "run")
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    values = Flow("ConfigParserFlow")[_run_id(proc)]["start"].task.data.values
    assert values == {
        "pairs": {"a": "1", "b": "two"},  # parser=parse_pairs (a function)
        "toml": {"x": 1, "table": {"y": "z"}},  # parser="tomllib.loads"
        "must": {"k": [1]},
    }


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_plain_configs_reach_steps_as_they_are(run_flow, client, executor):
    proc = run_flow("config_plain_flow.py", "run", "--executor", executor)
    assert proc.returncode == 0, proc.stderr
    assert _seen(proc) == {
        "hosts": ["a", "b"],
        "hosts_type": "list",
        "limits_type": "dict",
        "motto": "HELLO",
        "first": "a",  # a Parameter default read from a plain list config
    }
    namespace(None)
    run = Flow("ConfigPlainFlow")[_run_id(proc)]
    assert run.data.limits_in_end == {"retries": 1}  # start's change to it was not saved
    assert run["start"].task.data.hosts == ["a", "b"]
    assert run["start"].task.data.deco_args["retry"]["times"] == 1


def test_help_lists_configs_with_their_default_files(run_flow):
    proc = run_flow("config_flow.py", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "ConfigFlow's configs: cfg - the flow's settings (default: settings.json); extra" in text


def test_plain_config_on_the_command_line(run_flow, client):
    proc = run_flow("config_plain_flow.py", "--config-value", "hosts", '["x"]', "run")
    assert proc.returncode == 0, proc.stderr
    assert _seen(proc)["hosts"] == ["x"] and _seen(proc)["first"] == "x"


def test_parser_reads_files_and_values(run_flow, hw_root, client):
    (hw_root.parent / "pairs.txt").write_text("c = 3\n")
    proc = run_flow(
        "config_parser_flow.py",
        "--config",
        "pairs",
        "pairs.txt",
        "--config-value",
        "toml",
        "z = 2",
        "--config-value",
        "must",
        "{}",
        "run",
    )
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    values = Flow("ConfigParserFlow")[_run_id(proc)]["start"].task.data.values
    assert values["pairs"] == {"c": "3"} and values["toml"] == {"z": 2}


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flow", "args", "message"),
    [
        (
            "config_flow.py",
            ["--config", "nope", "x.json", "run"],
            "--config nope: ConfigFlow has no config named 'nope' (its configs: cfg, extra)",
        ),
        (
            "config_flow.py",
            ["--config-value", "nope", "{}", "check"],
            "--config-value nope: ConfigFlow has no config named 'nope'",
        ),
        (
            "linear.py",
            ["--config", "cfg", "x.json", "run"],
            "LinearFlow has no config named 'cfg' (its configs: none)",
        ),
        (
            "config_flow.py",
            ["--config", "cfg", "missing.json", "run"],
            "config 'cfg': the file 'missing.json' does not exist",
        ),
        (
            "config_flow.py",
            ["--config", "cfg", "bad.json", "run"],
            "config 'cfg': file 'bad.json' is not valid JSON (Expecting property name",
        ),
        (
            "config_flow.py",
            ["--config-value", "cfg", "{oops", "run"],
            "config 'cfg': the --config-value text is not valid JSON",
        ),
        (
            "config_flow.py",
            ["--config-value", "cfg", "[1, 2]", "run"],
            "config 'cfg': JSON made a list of the --config-value text; a config must be a dict",
        ),
        (
            "config_flow.py",
            ["--config-value", "cfg", "{}", "--config", "cfg", "settings.json", "run"],
            "config 'cfg' is given by both --config and --config-value: pass one",
        ),
        (
            "config_flow.py",
            ["--config-value", "cfg", '{"alpha": 1, "retries": 1, "resources": {"cpu": 1}}', "run"],
            "@project of flow ConfigFlow: config_expr('cfg.project') failed (AttributeError: "
            "the config has no key 'project'",
        ),
        (
            "config_flow.py",
            ["--config-value", "cfg", '{"project": "p", "resources": {"cpu": 1}}', "run"],
            "@retry of step 'start': cfg.retries: cfg has no key 'retries' (its keys: "
            "'project', 'resources'): fix the name, or add the key to config 'cfg'",
        ),
        (
            "config_flow.py",
            ["--config-value", "cfg", json.dumps({**SETTINGS, "retries": -1}), "run"],
            "step 'start': @retry(times=-1): times must be between 0 and 100",
        ),
        (
            "config_bad_key_flow.py",
            ["check"],
            "cfg.retrys: cfg has no key 'retrys' (its keys: 'retries')",
        ),
        (
            "config_parser_flow.py",
            ["run"],
            "config 'must' is required: pass --config must PATH or --config-value must JSON",
        ),
        (
            "config_parser_flow.py",
            ["--config-value", "must", "{}", "--config-value", "pairs", "oops", "run"],
            "config 'pairs': the parser parse_pairs failed on the --config-value text "
            "(ValueError: line 'oops' has no '='): fix the text or the parser",
        ),
        (
            "config_parser_flow.py",
            ["--config-value", "must", "{}", "--config-value", "toml", "= =", "show"],
            "config 'toml': the parser 'tomllib.loads' failed on the --config-value text",
        ),
        (
            "config_unpicklable_flow.py",
            ["run"],
            "config 'cfg' cannot be saved with the run: its value does not pickle (TypeError: ",
        ),
        (
            "config_flow.py",
            ["run", "--config", "cfg", "settings.json"],
            "--config is a top-level option: put it before the command",
        ),
        (
            "config_flow.py",
            ["--config", "cfg", "settings.json", "--config", "cfg", "other.json", "run"],
            "--config cfg is given twice: pass each config once",
        ),
    ],
)
def test_config_errors_are_one_line(run_flow, settings, flow, args, message):
    (settings.parent / "bad.json").write_text("{bad")
    line = _one_line_error(run_flow(flow, *args))
    assert message in line


def test_missing_default_file_is_an_error(run_flow, hw_root):
    line = _one_line_error(run_flow("config_flow.py", "run"))
    assert "config 'cfg': the file 'settings.json' does not exist" in line
    assert "create it, or pass --config cfg PATH" in line


# --- show, check, dump, resume ----------------------------------------------------------------


def test_show_and_check_resolve_configs(run_flow, settings):
    proc = run_flow("config_flow.py", "check")
    assert proc.returncode == 0, proc.stderr
    proc = run_flow("config_flow.py", "show")
    assert proc.returncode == 0, proc.stderr
    assert "start" in proc.stdout


def test_dump_shows_the_config(run_flow, settings):
    proc = run_flow("config_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    run_id = _run_id(proc)
    dump = run_flow("config_flow.py", "dump", f"{run_id}/end")
    assert dump.returncode == 0, dump.stderr
    assert "cfg: {'alpha': 0.25" in dump.stdout


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_resume_keeps_the_origin_configs(run_flow, settings, client, executor):
    origin = run_flow("config_flow.py", "run", "--executor", executor, env={"FAIL_END": "1"})
    assert origin.returncode == 1
    origin_id = _run_id(origin)
    # The file changes after the run: resume must not see it.
    _write(settings, {**SETTINGS, "alpha": 9.0, "retries": 0, "project": "changed"})
    resumed = run_flow("config_flow.py", "resume", "start", "--executor", executor)
    assert resumed.returncode == 0, resumed.stderr
    seen = _seen(resumed)
    assert (seen["alpha"], seen["limit"], seen["project"]) == (0.25, 20, "cfgproj")
    namespace(None)
    run = Flow("ConfigFlow")[_run_id(resumed)]
    assert run.origin_pathspec == f"ConfigFlow/{origin_id}"
    assert run.data.cfg == SETTINGS
    assert run["start"].task.data.deco_args["retry"]["times"] == 2
    assert "project:cfgproj" in run.system_tags


def test_resume_refuses_new_configs(run_flow, settings):
    origin = run_flow("config_flow.py", "run", env={"FAIL_END": "1"})
    assert origin.returncode == 1
    line = _one_line_error(
        run_flow("config_flow.py", "--config-value", "cfg", "{}", "resume"),
    )
    assert f"resume keeps the configs of the origin run {_run_id(origin)}" in line
