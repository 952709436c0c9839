"""``FlowSpec``: the base class of every flow.

Outside a run a FlowSpec is a plain object. Inside a task the runtime binds it to a
:class:`TaskBinding` that loads inherited artifacts lazily, serves parameter values and
records the transition the step takes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence

from headwater.exceptions import InvalidFlow, ReadOnlyArtifact
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Protocol
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object


_INTERNAL_PREFIX = "_hw_"


class TaskBinding(Protocol):
    """What a running task provides to its FlowSpec instance."""

    def load_artifact(self, name: str) -> Any:
        """The inherited value of ``name``; AttributeError when there is none."""
        ...

    def parameter_value(self, attr: str) -> Any: ...

    def record_next(
        self,
        targets: Sequence[Any],
        foreach: str | None,
        condition: str | None,
        num_parallel: int | None,
    ) -> None: ...

    def foreach_input(self) -> Any: ...

    def foreach_index(self) -> int | None: ...

    def foreach_stack(self) -> list[tuple[int, int, Any]]: ...

    def foreach_frames(self) -> list[ForeachFrame]: ...

    def delete_artifact(self, name: str) -> None: ...

    def merge_artifacts(
        self, inputs: Any, include: Sequence[str], exclude: Sequence[str]
    ) -> None: ...

    def is_constant(self, name: str) -> bool: ...


class ForeachFrame(Record):
    """One enclosing foreach of a running task (``self._foreach_stack``), outermost first:
    the step that started it, the artifact it iterates (None for a @parallel gang), how many
    tasks it started, this task's index, and this task's item."""

    step: str
    var: str | None
    num_splits: int
    index: int
    value: Any


class FlowSpec:
    """Subclass this and mark methods with ``@step`` to write a flow.

    Iterating over a flow object gives its steps (bound methods with a ``name``), in the order
    ``show`` prints them; ``_graph`` is the flow's graph.
    """

    # Flow-level decorators (@project, @schedule, ...) register here, by name.
    _flow_decorators: dict[str, Any] = {}

    def __init__(self, use_cli: bool = True) -> None:
        object.__setattr__(self, "_hw_binding", None)
        if use_cli:
            from headwater.cli.main import run_flow_cli

            sys.exit(run_flow_cli(type(self), sys.argv[1:]))

    # --- artifacts --------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith(_INTERNAL_PREFIX):
            raise AttributeError(name)
        binding = self.__dict__.get("_hw_binding")
        if binding is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return binding.load_artifact(name)

    def __delattr__(self, name: str) -> None:
        binding = self.__dict__.get("_hw_binding")
        if binding is None or name.startswith(_INTERNAL_PREFIX):
            object.__delattr__(self, name)
            return
        binding.delete_artifact(name)  # `del self.x`: x is not saved with this task

    def __setattr__(self, name: str, value: Any) -> None:
        binding = self.__dict__.get("_hw_binding")
        if (
            binding is not None
            and not name.startswith(_INTERNAL_PREFIX)
            and binding.is_constant(name)
        ):
            raise ReadOnlyArtifact(
                f"cannot assign self.{name}: it is a class constant and read-only inside steps; "
                "store the new value under another name"
            )
        object.__setattr__(self, name, value)

    def _hw_parameter_value(self, attr: str) -> Any:
        binding = self.__dict__.get("_hw_binding")
        if binding is None:
            return getattr(type(self), attr)
        return binding.parameter_value(attr)

    # --- transitions --------------------------------------------------------------------------
    def next(
        self,
        *targets: Any,
        foreach: str | None = None,
        condition: str | None = None,
        num_parallel: int | None = None,
    ) -> None:
        """Say which step(s) run after this one; must be the last statement of a step."""
        binding = self.__dict__.get("_hw_binding")
        if binding is None:
            raise InvalidFlow("self.next() can only be called while a step runs")
        binding.record_next(targets, foreach, condition, num_parallel)

    # --- foreach context ------------------------------------------------------------------------
    @property
    def input(self) -> Any:
        """The element of the foreach this task handles (None outside a foreach)."""
        binding = self.__dict__.get("_hw_binding")
        return None if binding is None else binding.foreach_input()

    @property
    def index(self) -> int | None:
        """The index of this task in the innermost foreach (None outside a foreach)."""
        binding = self.__dict__.get("_hw_binding")
        return None if binding is None else binding.foreach_index()

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """``(index, num_splits, value)`` for each enclosing foreach, outermost first."""
        binding = self.__dict__.get("_hw_binding")
        return [] if binding is None else binding.foreach_stack()

    # --- joins ----------------------------------------------------------------------------------
    def merge_artifacts(
        self,
        inputs: Any,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """Copy to ``self`` every artifact equal in all inputs and not set on ``self`` yet."""
        binding = self.__dict__.get("_hw_binding")
        if binding is None:
            raise InvalidFlow("merge_artifacts() can only be called in a join step while it runs")
        binding.merge_artifacts(inputs, list(include or ()), list(exclude or ()))

    @property
    def name(self) -> str:
        """The flow's name."""
        return type(self).__name__

    # --- the flow's structure (as Metaflow's FlowSpec gives it) -------------------------------
    @property
    def _graph(self) -> Any:
        """The flow's graph (:class:`headwater.core.graph.FlowGraph`): ``_graph[name]``."""
        graph = self.__dict__.get("_hw_graph")
        if graph is None:
            from headwater.core.graph import FlowGraph

            graph = FlowGraph.from_class(type(self))
            object.__setattr__(self, "_hw_graph", graph)
        return graph

    def __iter__(self) -> Iterator[Any]:
        """The flow's steps (bound step methods; ``.name`` is the step's name), in order."""
        return iter([getattr(self, node.name) for node in self._graph])

    @property
    def _current_step(self) -> str | None:
        """The name of the step running (None outside a task)."""
        binding = self.__dict__.get("_hw_binding")
        return None if binding is None else binding.path.step

    @property
    def _foreach_stack(self) -> list[ForeachFrame]:
        """The enclosing foreaches of the running task, outermost first (see ForeachFrame)."""
        binding = self.__dict__.get("_hw_binding")
        return [] if binding is None else binding.foreach_frames()

    @property
    def script_name(self) -> str:
        module = sys.modules.get(type(self).__module__)
        path = getattr(module, "__file__", None) or ""
        return path.rsplit("/", 1)[-1]


def class_constants(flow_cls: type) -> dict[str, Any]:
    """Class-level values of a flow saved as artifacts (not parameters, steps or methods)."""
    from headwater.core.parameters import Parameter

    out: dict[str, Any] = {}
    for klass in reversed(flow_cls.__mro__):
        if klass is object or klass is FlowSpec or not issubclass(klass, FlowSpec):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("__") or attr.startswith(_INTERNAL_PREFIX):
                continue
            if attr in ("_flow_decorators",):
                continue
            if isinstance(value, (Parameter, property, staticmethod, classmethod)):
                continue
            if getattr(type(value), "_hw_is_config", False):
                continue  # a Config: saved with the parameters, by headwater.runtime.launch
            if callable(value) or isinstance(value, type):
                continue
            out[attr] = value
    return out
