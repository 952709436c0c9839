"""The task side of a FlowSpec: lazy artifact loading, join inputs, merge_artifacts, next()."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from headwater.core.flowspec import ForeachFrame
from headwater.core.graph import GraphNode, NodeType
from headwater.core.ids import AttemptPath
from headwater.core.splits import (
    FrameKind,
    SplitFrame,
    Stack,
    Transition,
    TransitionKind,
    foreach_frames,
    foreach_index,
)
from headwater.datastore.records import ArtifactRef, TaskIndex
from headwater.exceptions import (
    ArtifactNotFound,
    InvalidFlow,
    MergeArtifactsError,
    MissingInMergeArtifactsError,
    UnhandledInMergeArtifactsError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore

# Values of these types cannot change in place, so a loaded one needs no re-save check.
_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), frozenset)


class InputTask:
    """One parent of a join, exposing that branch's artifacts read-only."""

    def __init__(self, datastore: Datastore, path: AttemptPath, index: TaskIndex) -> None:
        object.__setattr__(self, "_hw_ds", datastore)
        object.__setattr__(self, "_hw_path", path)
        object.__setattr__(self, "_hw_index", index)
        object.__setattr__(self, "_hw_cache", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_hw_"):
            raise AttributeError(name)
        cache = self._hw_cache
        if name in cache:
            return cache[name]
        ref = self._hw_index.artifacts.get(name)
        if ref is None:
            raise ArtifactNotFound(
                f"the input from step '{self._hw_path.step}' (task {self._hw_path.task_id}) "
                f"has no artifact '{name}'{_hint(name, self._hw_index.artifacts)}"
            )
        value = self._hw_ds.load_value(self._hw_path.flow, ref.key)
        cache[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("join inputs are read-only: assign to self in the join instead")

    def __contains__(self, name: str) -> bool:
        return name in self._hw_index.artifacts

    @property
    def index(self) -> int | None:
        return foreach_index(self._hw_index.stack)

    @property
    def step_name(self) -> str:
        return self._hw_path.step

    def __repr__(self) -> str:
        return f"<input {self._hw_path.pathspec}>"


class Inputs(Sequence[InputTask]):
    """The ``inputs`` argument of a join: ordered by branch or split index."""

    def __init__(self, items: list[InputTask]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: Any) -> Any:
        return self._items[i]

    def __iter__(self) -> Iterator[InputTask]:
        return iter(self._items)

    def __getattr__(self, name: str) -> InputTask:
        if name.startswith("_"):
            raise AttributeError(name)
        for item in self._items:
            if item.step_name == name:
                return item
        names = sorted({i.step_name for i in self._items})
        raise AttributeError(
            f"this join has no input from step '{name}'{_hint(name, names)} (inputs come "
            f"from: {', '.join(names)})"
        )


class StepBinding:
    """Binds a FlowSpec instance to one running task attempt."""

    def __init__(
        self,
        datastore: Datastore,
        path: AttemptPath,
        node: GraphNode,
        inherited: Mapping[str, ArtifactRef],
        params: Mapping[str, ArtifactRef],
        parameter_attrs: frozenset[str],
        constant_names: frozenset[str],
        stack: Stack,
        max_num_splits: int,
        known_indexes: Mapping[AttemptPath, TaskIndex] | None = None,
    ) -> None:
        self.ds = datastore
        self.path = path
        self.node = node
        self.refs: dict[str, ArtifactRef] = dict(params)
        self.refs.update(inherited)
        self.params = params
        self.parameter_attrs = parameter_attrs
        self.constant_names = constant_names
        self.stack = stack
        self.max_num_splits = max_num_splits
        # indexes read already (the parents'): a foreach body's split task is its parent
        self.known_indexes = dict(known_indexes or {})
        self.loaded: dict[str, tuple[str, Any]] = {}  # name -> (key, value as loaded)
        self.flow: Any = None
        self.next_call: tuple[tuple[Any, ...], str | None, str | None, int | None] | None = None
        self._param_cache: dict[str, Any] = {}

    # --- FlowSpec hooks -----------------------------------------------------------------------
    def load_artifact(self, name: str) -> Any:
        ref = self.refs.get(name)
        if ref is None or name in self.parameter_attrs:
            known = [*self.refs, *self.flow.__dict__, *dir(type(self.flow))]
            hint = _hint(name, known)
            raise AttributeError(
                f"step '{self.path.step}' has no artifact '{name}'{hint}: assign self.{name} "
                "in this step or in one before it"
                + (" (in a join, use inputs or merge_artifacts)" if self.node.is_join else "")
            )
        value = self.ds.load_value(self.path.flow, ref.key, track=True)
        self.loaded[name] = (ref.key, value)
        object.__setattr__(self.flow, name, value)
        return value

    def parameter_value(self, attr: str) -> Any:
        if attr in self._param_cache:
            return self._param_cache[attr]
        ref = self.params.get(attr)
        if ref is None:
            raise AttributeError(f"parameter '{attr}' has no value in this run")
        value = self.ds.load_value(self.path.flow, ref.key)
        self._param_cache[attr] = value
        return value

    def is_constant(self, name: str) -> bool:
        return name in self.constant_names

    def record_next(
        self,
        targets: Sequence[Any],
        foreach: str | None,
        condition: str | None,
        num_parallel: int | None,
    ) -> None:
        if self.next_call is not None:
            raise InvalidFlow(
                f"step '{self.path.step}' called self.next() twice: call it once, as the last "
                "statement",
                step=self.path.step,
            )
        self.next_call = (tuple(targets), foreach, condition, num_parallel)

    def usual_next(self, overrides: Mapping[str, Any]) -> None:
        """Make the step's ``self.next`` call as its source writes it, with ``overrides``
        (``foreach=``, ``condition=``, ``num_parallel=``) replacing those arguments; whatever
        the step recorded before is dropped. Custom decorators that skip or replace a step use
        it. The end step takes no ``self.next``."""
        node = self.node
        if node.type == NodeType.END or not node.out_funcs:
            return
        known = {"foreach", "condition", "num_parallel"}
        unknown = set(overrides) - known
        if unknown:
            raise InvalidFlow(
                f"step '{self.path.step}': a custom decorator passed {sorted(unknown)} to "
                "self.next; it takes foreach, condition and num_parallel",
                step=self.path.step,
            )
        num_parallel = node.num_parallel if isinstance(node.num_parallel, int) else None
        args: dict[str, Any] = {
            "foreach": node.foreach_param,
            "condition": node.condition,
            "num_parallel": num_parallel,
        }
        args.update(overrides)
        if args["num_parallel"] is None and node.num_parallel is not None:
            raise InvalidFlow(
                f"step '{self.path.step}' starts a @parallel step with num_parallel="
                f"{node.num_parallel}: a custom decorator that skips it must give num_parallel",
                step=self.path.step,
            )
        targets = tuple(getattr(self.flow, name) for name in node.out_funcs)
        self.next_call = (targets, args["foreach"], args["condition"], args["num_parallel"])

    def _foreach_frames(self) -> list[SplitFrame]:
        return foreach_frames(self.stack)

    def _frame_value(self, frame: SplitFrame) -> Any:
        if frame.kind == FrameKind.PARALLEL:
            return frame.index  # a @parallel task's input is its node index
        split = AttemptPath(self.path.flow, self.path.run_id, frame.step, frame.task, frame.attempt)
        index = self.known_indexes.get(split)
        if index is None:
            index = self.known_indexes[split] = self.ds.read_index(split)
        ref = index.artifacts[frame.var or ""]
        values = self.ds.load_value(self.path.flow, ref.key)
        if not hasattr(values, "__getitem__"):
            values = list(values)
        return values[frame.index]

    def foreach_input(self) -> Any:
        frames = self._foreach_frames()
        if not frames:
            return None
        if "_hw_input" not in self._param_cache:
            self._param_cache["_hw_input"] = self._frame_value(frames[-1])
        return self._param_cache["_hw_input"]

    def foreach_index(self) -> int | None:
        return foreach_index(self.stack)

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        frames = self._foreach_frames()
        out = []
        for i, f in enumerate(frames):
            value = self.foreach_input() if i == len(frames) - 1 else self._frame_value(f)
            out.append((f.index, f.num_splits, value))
        return out

    def foreach_frames(self) -> list[ForeachFrame]:
        frames = self._foreach_frames()
        out = []
        for i, f in enumerate(frames):
            value = self.foreach_input() if i == len(frames) - 1 else self._frame_value(f)
            out.append(ForeachFrame(f.step, f.var, f.num_splits, f.index, value))
        return out

    def delete_artifact(self, name: str) -> None:
        """``del self.<name>``: the task saves no ``name``, set here or inherited."""
        present = name in self.flow.__dict__ or (
            name in self.refs and name not in self.parameter_attrs
        )
        if not present:
            raise AttributeError(f"step '{self.path.step}' has no artifact '{name}' to delete")
        if name in self.parameter_attrs or name in self.constant_names:
            raise InvalidFlow(
                f"cannot delete self.{name}: parameters and class constants are read-only",
                step=self.path.step,
            )
        self.flow.__dict__.pop(name, None)
        self.refs.pop(name, None)
        self.loaded.pop(name, None)

    def merge_artifacts(self, inputs: Any, include: Sequence[str], exclude: Sequence[str]) -> None:
        step = self.path.step
        if not self.node.is_join or not isinstance(inputs, Inputs):
            raise InvalidFlow(
                f"merge_artifacts() in step '{step}': it only works in a join step, "
                "called with the join's inputs",
                step=step,
            )
        if include and exclude:
            raise MergeArtifactsError(
                f"merge_artifacts() in step '{step}': give include or exclude, not both"
            )
        own = set(self.flow.__dict__) | set(self.refs)
        candidates: dict[str, dict[str, list[str]]] = {}  # name -> key -> branches having it
        for inp in inputs:
            for name, ref in inp._hw_index.artifacts.items():
                if name in self.params or name in self.constant_names:
                    continue
                if include and name not in include:
                    continue
                if name in exclude:
                    continue
                label = f"{inp._hw_path.step}/{inp._hw_path.task_id}"
                candidates.setdefault(name, {}).setdefault(ref.key, []).append(label)
        if include:
            missing = [n for n in include if n not in candidates and n not in own]
            if missing:
                raise MissingInMergeArtifactsError(
                    f"merge_artifacts() in step '{step}': include names "
                    f"{', '.join(repr(m) for m in missing)} which no input has; "
                    "check the spelling or drop it from include",
                    names=tuple(missing),
                )
        conflicts = {
            name: by_key
            for name, by_key in candidates.items()
            if len(by_key) > 1 and name not in own
        }
        if conflicts:
            parts = []
            for name in sorted(conflicts):
                groups = " vs ".join("+".join(branches) for branches in conflicts[name].values())
                parts.append(f"'{name}' ({groups})")
            raise UnhandledInMergeArtifactsError(
                f"merge_artifacts() in step '{step}': inputs disagree on {'; '.join(parts)}: "
                "set these on self before merging, or exclude them",
                names=tuple(sorted(conflicts)),
            )
        index_by_key: dict[str, ArtifactRef] = {}
        for inp in inputs:
            for ref in inp._hw_index.artifacts.values():
                index_by_key[ref.key] = ref
        for name, by_key in candidates.items():
            if name in own:
                continue
            (key,) = by_key
            self.refs[name] = index_by_key[key]

    # --- after the step ---------------------------------------------------------------------
    def resolve_transition(self) -> Transition:
        """Check the recorded next() against the static graph and resolve its successors."""
        node = self.node
        step = self.path.step
        if node.type == NodeType.END:
            if self.next_call is not None:
                raise InvalidFlow(f"the end step '{step}' must not call self.next()", step=step)
            return Transition(kind=TransitionKind.END)
        if self.next_call is None and self._is_gang_worker():
            # A worker of a @parallel gang goes where its control task goes (as Metaflow's
            # workers, whose own self.next is not needed).
            return Transition(kind=TransitionKind.LINEAR, targets=tuple(node.out_funcs))
        if self.next_call is None:
            raise InvalidFlow(
                f"step '{step}' finished without calling self.next(): end it with "
                f"self.next(self.{node.out_funcs[0] if node.out_funcs else '<step>'})",
                step=step,
            )
        targets, foreach, condition, num_parallel = self.next_call
        if condition is not None:
            return self._resolve_switch(targets, condition)
        names = tuple(_target_name(t, step) for t in targets)
        if names != tuple(node.out_funcs):
            raise InvalidFlow(
                f"step '{step}' called self.next({', '.join(names)}) but its source says "
                f"self.next({', '.join(node.out_funcs)}): the call must be the step's last "
                "statement and the same every time",
                step=step,
            )
        if foreach is not None:
            return self._resolve_foreach(names, foreach)
        if num_parallel is not None:
            return self._resolve_parallel(names, num_parallel)
        kind = TransitionKind.SPLIT if len(names) > 1 else TransitionKind.LINEAR
        return Transition(kind=kind, targets=names)

    def _resolve_foreach(self, names: tuple[str, ...], var: str) -> Transition:
        step = self.path.step
        try:
            values = getattr(self.flow, var)
        except AttributeError:
            raise InvalidFlow(
                f"step '{step}' does a foreach over '{var}' but sets no self.{var}: "
                f"assign a list to self.{var} before self.next",
                step=step,
            ) from None
        try:
            n = len(values)
        except TypeError:
            try:
                values = list(values)
            except TypeError:
                raise InvalidFlow(
                    f"step '{step}': self.{var} is a {type(values).__name__}, not something "
                    "a foreach can iterate: assign a list",
                    step=step,
                ) from None
            object.__setattr__(self.flow, var, values)
            n = len(values)
        if n == 0:
            raise InvalidFlow(
                f"step '{step}' does a foreach over self.{var}, which is empty: "
                "a foreach needs at least one item",
                step=step,
            )
        if n > self.max_num_splits:
            raise InvalidFlow(
                f"step '{step}' would start {n} foreach tasks, more than --max-num-splits "
                f"{self.max_num_splits}: pass a larger --max-num-splits to allow it",
                step=step,
            )
        return Transition(kind=TransitionKind.FOREACH, targets=names, foreach_var=var, num_splits=n)

    def _is_gang_worker(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and top.kind == FrameKind.PARALLEL and top.index > 0

    def _resolve_parallel(self, names: tuple[str, ...], num_parallel: Any) -> Transition:
        step = self.path.step
        if isinstance(num_parallel, bool) or not isinstance(num_parallel, int) or num_parallel < 1:
            raise InvalidFlow(
                f"step '{step}' passed num_parallel={num_parallel!r} to self.next: give a whole "
                "number of tasks, at least 1",
                step=step,
            )
        return Transition(kind=TransitionKind.PARALLEL, targets=names, num_splits=num_parallel)

    def _resolve_switch(self, targets: tuple[Any, ...], condition: str) -> Transition:
        step = self.path.step
        try:
            value = getattr(self.flow, condition)
        except AttributeError:
            raise InvalidFlow(
                f"switch in step '{step}' reads self.{condition}, which is not set: "
                f"assign self.{condition} before self.next",
                step=step,
            ) from None
        cases = dict(self.node.switch_cases)
        if value not in cases:
            # Allow str/int spelling differences as Metaflow does (keys are strings there).
            by_str = {str(k): v for k, v in cases.items()}
            if str(value) in by_str:
                target = by_str[str(value)]
                return Transition(TransitionKind.SWITCH, (target,), switch_value=repr(value))
            known = ", ".join(repr(k) for k in cases)
            raise InvalidFlow(
                f"switch in step '{step}': self.{condition} is {value!r}, which matches no case "
                f"({known}): set it to one of them",
                step=step,
            )
        return Transition(TransitionKind.SWITCH, (cases[value],), switch_value=repr(value))

    def changed_values(self) -> dict[str, Any]:
        """Values to save: everything assigned, plus loaded values changed in place."""
        out: dict[str, Any] = {}
        for name, value in self.flow.__dict__.items():
            if name.startswith("_hw_") or name in self.parameter_attrs:
                continue
            loaded = self.loaded.get(name)
            if loaded is not None and loaded[1] is value:
                if isinstance(value, _IMMUTABLE):
                    continue  # untouched immutable value: keep its key
                if self.ds.unchanged_since_load(loaded[0], value):
                    continue  # a mapped array left as it was: keep its key, skip the hash
            out[name] = value
        return out


def _hint(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a misspelt name, else nothing."""
    from headwater.core.suggest import did_you_mean

    hint = did_you_mean(name, [k for k in known if not k.startswith("_")])
    return f" ({hint})" if hint else ""


def _target_name(target: Any, step: str) -> str:
    name = getattr(target, "__name__", None)
    if not callable(target) or not name:
        raise InvalidFlow(
            f"step '{step}' passed {target!r} to self.next(): pass steps, as in self.next(self.a)",
            step=step,
        )
    return name
