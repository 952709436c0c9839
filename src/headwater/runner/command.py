"""The command line a Runner starts: ``python flow.py [top-level options] run|resume ...``.

Keyword arguments become options the way Metaflow's Runner maps them: ``max_workers=4`` ->
``--max-workers 4``, ``tags=["a", "b"]`` -> ``--tag a --tag b``, and every other keyword of
``run`` is a flow parameter given as ``--<name> <value>`` (bools as True/False, or a bare flag
for ``is_flag`` parameters; lists joined with the parameter's separator; JSON values dumped).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from headwater.exceptions import ParameterError, RunnerError
from headwater.record import EMPTY_MAPPING, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# Options of `run` and `resume` (keyword -> option); everything else given to run() is a
# flow parameter.
RUN_OPTIONS = {
    "tags": "--tag",
    "tag": "--tag",
    "max_workers": "--max-workers",
    "max_num_splits": "--max-num-splits",
    "max_log_size": "--max-log-size",
    "namespace": "--namespace",
    "executor": "--executor",
}
# Top-level keywords with a name of their own on the command line.
TOP_LEVEL_ALIASES = {"decospecs": "--with", "with_": "--with", "with": "--with"}


class FlowInfo(Record):
    """What the Runner knows of the flow before starting it: its name and parameters."""

    name: str | None
    parameters: Mapping[str, Any] = EMPTY_MAPPING  # Parameter objects, by name
    known: bool = False  # False: the flow could not be loaded; parameters pass through as given

    @classmethod
    def from_class(cls, flow_cls: type) -> FlowInfo:
        from headwater.core.parameters import flow_parameters

        params = {p.name: p for p in flow_parameters(flow_cls).values()}
        return cls(flow_cls.__name__, params, known=True)


def load_flow_info(flow_file: Path, env: Mapping[str, str]) -> FlowInfo:
    """Import the flow file (as Metaflow's Runner does) to learn its flow class and parameters.

    The module is imported under a private name, so its ``__main__`` block does not run. When
    it cannot be imported here (the subprocess will report why), the flow's name is read from
    the file's ``__main__`` block and parameters are passed through unchecked.
    """
    from headwater.core.flowspec import FlowSpec

    source = flow_file.read_text(encoding="utf-8", errors="replace")
    main_name = _main_block_flow(source)
    module_name = f"_headwater_runner_{abs(hash(str(flow_file)))}"
    spec = importlib.util.spec_from_file_location(module_name, flow_file)
    if spec is None or spec.loader is None:
        return FlowInfo(main_name)
    module = importlib.util.module_from_spec(spec)
    try:
        with _import_path(flow_file, env):
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    except BaseException:  # noqa: BLE001 - any failure: the subprocess reports it properly
        return FlowInfo(main_name)
    finally:
        sys.modules.pop(module_name, None)
    flows = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, FlowSpec)
        and v is not FlowSpec
        and v.__module__ == module_name
    ]
    chosen = next((f for f in flows if f.__name__ == main_name), flows[-1] if flows else None)
    if chosen is None:
        return FlowInfo(main_name)
    return FlowInfo.from_class(chosen)


@contextlib.contextmanager
def _import_path(flow_file: Path, env: Mapping[str, str]) -> Iterator[None]:
    """sys.path as the subprocess will see it: the flow's directory and env's PYTHONPATH."""
    extra = [str(flow_file.parent)]
    extra += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    saved = list(sys.path)
    sys.path[:0] = [p for p in extra if p not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved


def _main_block_flow(source: str) -> str | None:
    """The class instantiated under ``if __name__ == "__main__":``, read without importing."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Name):
                    return stmt.func.id
    return None


def option(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


def top_level_args(options: Mapping[str, Any]) -> list[str]:
    """``Runner(..., **options)`` as top-level command-line words."""
    args: list[str] = []
    for key, value in options.items():
        if value is None:
            continue
        if key == "pylint":  # Metaflow's pylint=False
            if not value:
                args.append("--no-pylint")
            continue
        if key in ("config", "config_value"):
            args += _config_words(option(key), value)
            continue
        flag = TOP_LEVEL_ALIASES.get(key, option(key))
        args += _option_words(flag, value)
    return args


def _config_words(flag: str, value: Any) -> list[str]:
    """``config=[("cfg", "cfg.json")]`` or ``config_value={"cfg": {"a": 1}}`` as
    ``--config NAME VALUE`` words (a value that is not a string is given as JSON)."""
    pairs = value.items() if isinstance(value, Mapping) else value
    words: list[str] = []
    try:
        for name, item in pairs:
            text = item if isinstance(item, str) else json.dumps(item)
            words += [flag, str(name), text]
    except (TypeError, ValueError):
        raise RunnerError(
            f"{flag[2:].replace('-', '_')}= takes (name, value) pairs or a dict of them, "
            f"not {value!r}"
        ) from None
    return words


def _option_words(flag: str, value: Any) -> list[str]:
    if isinstance(value, bool):
        return [flag] if value else []
    if isinstance(value, (list, tuple, set, frozenset)):
        words: list[str] = []
        for item in value:
            words += [flag, str(item)]
        return words
    return [flag, str(value)]


def run_args(info: FlowInfo, kwargs: Mapping[str, Any]) -> list[str]:
    """``run(**kwargs)``: run options first, then the flow's parameters."""
    args: list[str] = []
    for key, value in kwargs.items():
        if key in RUN_OPTIONS:
            if value is not None:
                args += _option_words(RUN_OPTIONS[key], value)
            continue
        if key in ("run_id_file", "runner_attribute_file"):
            raise RunnerError(f"{key} is set by the Runner itself: leave it out")
        args += _parameter_words(info, key, value)
    return args


def resume_args(kwargs: Mapping[str, Any]) -> list[str]:
    """``resume(step=None, origin_run_id=None, **run_options)``."""
    args: list[str] = []
    rest = dict(kwargs)
    step = rest.pop("step", None) or rest.pop("step_to_rerun", None)
    origin = rest.pop("origin_run_id", None)
    if step:
        args.append(str(step))
    if origin is not None:
        args += ["--origin-run-id", str(origin)]
    for key, value in rest.items():
        if key not in RUN_OPTIONS:
            raise RunnerError(
                f"resume() has no option {key!r}: resume takes step, origin_run_id, "
                f"{', '.join(sorted(RUN_OPTIONS))} (parameters come from the origin run)"
            )
        if value is not None:
            args += _option_words(RUN_OPTIONS[key], value)
    return args


def _parameter_words(info: FlowInfo, key: str, value: Any) -> list[str]:
    param = _find_parameter(info, key)
    if param is None:
        if info.known:
            from headwater.core.suggest import did_you_mean

            names = ", ".join(sorted(info.parameters)) or "none"
            raise ParameterError(
                f"{info.name} has no parameter {key!r}: "
                + (did_you_mean(key, info.parameters) or f"its parameters are {names}")
            )
        return [f"--{key}", _encode(value)]
    flag = f"--{param.name}"
    if value is None:
        return []
    if param.is_flag:
        return [flag] if _truthy(value) else []
    return [flag, _encode(value, param)]


def _find_parameter(info: FlowInfo, key: str) -> Any:
    for name, param in info.parameters.items():
        if key in (name, name.replace("-", "_"), getattr(param, "attr_name", None)):
            return param
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t", "1", "yes", "y", "on")
    return bool(value)


def _encode(value: Any, param: Any = None) -> str:
    """One parameter value as the command line expects it."""
    from headwater.core.parameters import JSONType

    if param is not None and param.type is JSONType:
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        separator = getattr(param, "separator", None)
        if separator:
            return separator.join(str(v) for v in value)
        return json.dumps(list(value))
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)
