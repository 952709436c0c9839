"""What every command handler receives: the flow, the chosen stores, and the output."""

from __future__ import annotations

from headwater.cli.output import Output

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.settings import Settings
    from headwater.stores import Stores


class CliContext:
    __slots__ = (
        "flow_cls",
        "out",
        "store_options",
        "package_suffixes",
        "_stores",
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
        store_options: dict[str, str | None] | None = None,  # --datastore, --metadata, ...
        package_suffixes: list[str] | None = None,  # --package-suffixes
        debug: bool = False,
        decospecs: list[str] | None = None,  # --with
        options: dict[str, Any] | None = None,  # other top-level options
        config_files: dict[str, str] | None = None,  # --config NAME PATH
        config_texts: dict[str, str] | None = None,  # --config-value NAME JSON
    ) -> None:
        self.flow_cls = flow_cls
        self.out = out
        self.store_options: dict[str, str | None] = dict(store_options or {})
        self.package_suffixes: list[str] = list(package_suffixes or [])
        self._stores: Stores | None = None
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

    @property
    def settings(self) -> Settings:
        """Where runs are kept: the command's options over the environment and settings file."""
        from headwater.settings import load_settings

        return load_settings(environ=None, **self.store_options)

    def stores(self, for_run: bool = False) -> Stores:
        """The datastore and metadata of this command (made once; see headwater.stores).
        ``for_run``: a run writes there, so a missing local root is created."""
        if self._stores is None:
            from headwater.stores import open_stores

            self._stores = open_stores(self.settings, for_run=for_run)
        return self._stores
