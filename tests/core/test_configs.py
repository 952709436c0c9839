"""Config objects, reading their values, and evaluating deferred values on a flow class."""

from __future__ import annotations

import pytest

from headwater import (
    Config,
    FlowSpec,
    Parameter,
    StepDecorator,
    config_expr,
    project,
    resources,
    retry,
    step,
)
from headwater.core.configs import apply_configs, flow_configs, load_config, read_config_values
from headwater.core.deferred import ConfigPath, is_deferred
from headwater.core.flowspec import class_constants
from headwater.core.parameters import ParameterContext
from headwater.exceptions import ConfigError, InvalidFlow

CTX = ParameterContext("F", "me", "cfg")


def make_flow():
    @project(name=config_expr("cfg.project + '_x'"))
    class ConfFlow(FlowSpec):
        cfg = Config("cfg", default_value={"project": "p", "cpu": 2, "n": {"times": 4}})
        other = Config("other-name", default_value='{"k": "v"}')
        alpha = Parameter("alpha", default=cfg.cpu)
        typed = Parameter("typed", default=cfg.cpu, type=str)
        LIMIT = cfg.n.times
        LIST = [cfg.cpu, 1]

        @retry(times=cfg.n["times"], minutes_between_retries=0)
        @resources(cpu=config_expr("cfg.cpu * 2"), memory=config_expr("[other.k][0]"))
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    return ConfFlow


def test_class_level_access_is_deferred():
    flow = make_flow()
    assert isinstance(flow.cfg, Config)
    path = flow.cfg.a.b["c d"][0]
    assert isinstance(path, ConfigPath) and is_deferred(path)
    assert repr(path) == "cfg.a.b['c d'][0]"
    assert repr(config_expr("cfg.a + 1")) == "config_expr('cfg.a + 1')"
    with pytest.raises(ConfigError, match="has no value until the configs are read"):
        bool(flow.cfg.a)
    with pytest.raises(AttributeError):
        flow.cfg._private  # noqa: B018
    assert list(flow_configs(flow)) == ["cfg", "other"]


def test_decorators_wait_for_configs_then_validate():
    flow = make_flow()
    retry_deco, res_deco = reversed(flow.start.decorators)
    assert is_deferred(retry_deco.attributes["times"])  # init() has not run yet
    values = read_config_values(flow, {}, {}, "me")
    apply_configs(flow, values)
    assert retry_deco.attributes["times"] == 4 and retry_deco.retries() == 4
    assert res_deco.attributes["cpu"] == 4 and res_deco.attributes["memory"] == "v"
    assert flow._flow_decorators["project"].attributes["name"] == "p_x"
    assert flow.alpha.default == 2 and flow.alpha.type is int
    assert flow.typed.type is str
    assert flow.LIMIT == 4 and flow.LIST == [2, 1]
    constants = class_constants(flow)
    assert constants["LIMIT"] == 4 and "cfg" not in constants and "other" not in constants
    # Applying other values evaluates the written arguments again.
    values["cfg"] = values["cfg"].__class__({"project": "q", "cpu": 1, "n": {"times": 0}})
    apply_configs(flow, values)
    assert retry_deco.retries() == 0 and flow.alpha.default == 1 and flow.LIMIT == 0


def test_bad_resolved_argument_is_reported_with_its_step():
    flow = make_flow()
    values = read_config_values(
        flow, {}, {"cfg": '{"project": "p", "cpu": 2, "n": {"times": -3}}'}, "me"
    )
    with pytest.raises(InvalidFlow, match=r"step 'start': @retry\(times=-3\)"):
        apply_configs(flow, values)


def test_a_config_without_a_value_cannot_be_read_in_decorators():
    class NoValueFlow(FlowSpec):
        cfg = Config("cfg")

        @retry(times=cfg.retries)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    values = read_config_values(NoValueFlow, {}, {}, "me")
    assert values == {"cfg": None}
    with pytest.raises(ConfigError, match="config 'cfg' has no value: give it a default, or pass"):
        apply_configs(NoValueFlow, values)


def test_a_config_of_another_flow_is_refused():
    stray = Config("stray", default_value={"a": 1})

    class StrayFlow(FlowSpec):
        @retry(times=stray.a)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    with pytest.raises(ConfigError, match="not a config of StrayFlow"):
        apply_configs(StrayFlow, {})


def test_third_party_decorator_gets_resolved_arguments():
    class Tagged(StepDecorator):
        name = "_tagged_for_test"
        defaults = {"label": None}

        def init(self):
            if not isinstance(self.attributes["label"], str):
                raise InvalidFlow("label must be a string")

    cfg = Config("cfg", default_value={"label": "L"})
    deco = Tagged({"label": cfg.label})
    deco._resolve_configs(lambda v: "L" if is_deferred(v) else v)
    assert deco.attributes == {"label": "L"}


# --- load_config ------------------------------------------------------------------------------


def test_sources_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.json").write_text('{"from": "default file"}')
    (tmp_path / "g.json").write_text('{"from": "given file"}')
    cfg = Config("cfg", default="d.json", default_value={"from": "default_value"})
    assert load_config(cfg, None, '{"from": "text"}', CTX) == {"from": "text"}
    assert load_config(cfg, "g.json", None, CTX) == {"from": "given file"}
    assert load_config(cfg, None, None, CTX) == {"from": "default file"}
    (tmp_path / "d.json").unlink()
    assert load_config(cfg, None, None, CTX) == {"from": "default_value"}


def test_callable_defaults_get_the_context(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "F.json").write_text('{"a": 1}')
    cfg = Config("cfg", default=lambda ctx: f"{ctx.flow_name}.json")
    assert load_config(cfg, None, None, CTX) == {"a": 1}
    cfg = Config("cfg", default_value=lambda ctx: {"user": ctx.user_name})
    assert load_config(cfg, None, None, CTX) == {"user": "me"}


def test_no_value():
    assert load_config(Config("cfg"), None, None, CTX) is None
    with pytest.raises(ConfigError, match="config 'cfg' is required"):
        load_config(Config("cfg", required=True), None, None, CTX)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parser": "nodots"}, "parser 'nodots' names no function"),
        ({"parser": "no_such_module_xyz.load"}, "cannot load the parser"),
        ({"parser": "json.no_such_function"}, "cannot load the parser"),
        ({"parser": lambda text: [text]}, "made a list of the --config-value text"),
        ({"default_value": 3}, "default_value is a int"),
    ],
)
def test_parser_errors(kwargs, message):
    cfg = Config("cfg", **kwargs)
    text = None if "default_value" in kwargs else "{}"
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, None, text, CTX)


def test_bad_config_arguments():
    with pytest.raises(ConfigError, match="needs a name"):
        Config("")
    with pytest.raises(ConfigError, match="parser must be a function"):
        Config("cfg", parser=3)
    with pytest.raises(ConfigError, match="Config 'cfg' has no argument 'plian' .*plain"):
        Config("cfg", plian=True)


def test_plain_configs_keep_any_value_as_it_is():
    plain = Config("cfg", plain=True)
    assert load_config(plain, None, "[1, 2]", CTX) == [1, 2]
    assert type(load_config(plain, None, '{"a": [1]}', CTX)) is dict
    assert load_config(Config("cfg", default_value=(1, 2), plain=True), None, None, CTX) == (1, 2)
    listed = Config("cfg", default_value="a,b", parser=lambda t: t.split(","), plain=True)
    assert load_config(listed, None, None, CTX) == ["a", "b"]
    # Not plain: the same values are refused with a hint.
    with pytest.raises(ConfigError, match=r"must be a dict .*plain=True"):
        load_config(Config("cfg"), None, "[1, 2]", CTX)


def test_a_config_and_a_parameter_cannot_share_a_name():
    from headwater.runtime.launch import check_parameter_names

    class SharedFlow(FlowSpec):
        cfg = Config("shared", default_value={})
        param = Parameter("shared", default=1)

    with pytest.raises(Exception, match="config 'cfg' and parameter 'param' of SharedFlow share"):
        check_parameter_names(SharedFlow)
