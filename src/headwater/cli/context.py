"""What every command handler receives: the flow, the chosen stores, and the output."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from headwater import config
from headwater.cli.output import Output


@dataclass
class CliContext:
    flow_cls: type
    out: Output
    datastore_root: str | None = None  # --datastore-root
    debug: bool = False
    decospecs: list[str] = field(default_factory=list)  # --with
    options: dict[str, Any] = field(default_factory=dict)  # other top-level options

    @property
    def flow_name(self) -> str:
        return self.flow_cls.__name__

    @cached_property
    def graph(self) -> Any:
        from headwater.core.graph import FlowGraph

        return FlowGraph.from_class(self.flow_cls)

    @cached_property
    def with_decorators(self) -> list[Any]:
        """Decorators given with --with, parsed once."""
        from headwater.core.decorators import parse_decospec

        return [parse_decospec(spec) for spec in self.decospecs]

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

    def root_for_run(self) -> Path:
        return config.root_for_run(self.datastore_root)

    def root_for_reading(self) -> Path:
        return config.root_for_reading(self.datastore_root)

    def metadata(self, root: Path) -> Any:
        from headwater.metadata_store.sqlite import SqliteMetadata

        return SqliteMetadata(root / "metadata.db")

    def datastore(self, root: Path) -> Any:
        from headwater.datastore.local import LocalDatastore

        return LocalDatastore(root)
