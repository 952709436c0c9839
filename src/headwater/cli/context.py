"""What every command handler receives: the flow, the chosen stores, and the output."""

from __future__ import annotations

import os

from headwater import config
from headwater.cli.output import Output

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class CliContext:
    __slots__ = (
        "flow_cls",
        "out",
        "datastore_root",
        "debug",
        "decospecs",
        "options",
        "config_files",
        "config_texts",
        "configs",
        "_graph",
        "_with_decorators",
    )

    def __init__(
        self,
        flow_cls: type,
        out: Output,
        datastore_root: str | None = None,  # --datastore-root
        debug: bool = False,
        decospecs: list[str] | None = None,  # --with
        options: dict[str, Any] | None = None,  # other top-level options
        config_files: dict[str, str] | None = None,  # --config NAME PATH
        config_texts: dict[str, str] | None = None,  # --config-value NAME JSON
    ) -> None:
        self.flow_cls = flow_cls
        self.out = out
        self.datastore_root = datastore_root
        self.debug = debug
        self.decospecs: list[str] = [] if decospecs is None else decospecs
        self.options: dict[str, Any] = {} if options is None else options
        self.config_files: dict[str, str] = dict(config_files or {})
        self.config_texts: dict[str, str] = dict(config_texts or {})
        self.configs: dict[str, Any] = {}  # resolved config values, by attribute name
        self._graph: Any = None
        self._with_decorators: list[Any] | None = None

    @property
    def flow_name(self) -> str:
        return self.flow_cls.__name__

    @property
    def graph(self) -> Any:
        """The flow's graph, read once."""
        if self._graph is None:
            from headwater.core.graph import FlowGraph

            self._graph = FlowGraph.from_class(self.flow_cls)
        return self._graph

    def resolve_configs(self, saved: dict[str, Any] | None = None) -> None:
        """Read the flow's configs and evaluate what depends on them (decorator arguments,
        Parameter defaults): from ``--config``/``--config-value`` and the defaults, or from
        ``saved`` (the values of an earlier run). Call once, before decorators are used."""
        from headwater.cli.config_options import resolve

        self.configs = resolve(self, saved)

    @property
    def with_decorators(self) -> list[Any]:
        """Decorators given with --with, parsed once."""
        if self._with_decorators is None:
            from headwater.core.decorators import is_custom_decospec, parse_decospec

            self._with_decorators = [
                parse_decospec(spec) for spec in self.decospecs if not is_custom_decospec(spec)
            ]
        return self._with_decorators

    def step_decorators(self, step: str) -> list[Any]:
        """The step's own decorators, plus the --with ones that fit it (a --with @catch skips
        foreach steps instead of failing the flow)."""
        from headwater.core.decorators import step_decorators
        from headwater.exceptions import InvalidFlow

        fitting = []
        for deco in self.with_decorators:
            try:
                deco.step_init(self.graph, step)
            except InvalidFlow:
                continue
            fitting.append(deco)
        return step_decorators(getattr(self.flow_cls, step), fitting)

    def root_for_run(self) -> str:
        """The datastore root a run writes to (--datastore-root, else found or created)."""
        return config.run_root(self.datastore_root)

    def root_for_reading(self) -> str:
        return config.reading_root(self.datastore_root)

    def metadata(self, root: str) -> Any:
        from headwater.metadata_store.sqlite import SqliteMetadata

        return SqliteMetadata(os.path.join(root, "metadata.db"))

    def datastore(self, root: str) -> Any:
        from headwater.datastore.local import LocalDatastore

        return LocalDatastore(root)
