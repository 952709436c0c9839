"""``@r``: a step whose work is an R function, run by ``Rscript`` in the step's task.

::

    @r(file="model.R", function="fit")
    @step
    def fit(self):
        self.next(self.end)

The R function gets ``self`` (and ``inputs`` in a join); what it assigns to ``self`` becomes
the task's artifacts, readable by every later step, Python or R. The Python body runs after the
R function, and usually only calls ``self.next``. Flows written in R (the headwater R package)
are made of such steps, with ``step=`` naming the step of the R flow whose ``r_function`` runs.
"""

from __future__ import annotations

import functools
import os
import sys

from headwater.core.decorators import StepDecorator, _Misused, attach
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from typing import Any


class RDecorator(StepDecorator):
    """Run an R function as the step: ``function`` of ``file`` (a Python flow's R step), or
    the ``r_function`` of ``step`` in the R flow defined in ``file``."""

    name = "r"
    defaults = {"file": None, "function": None, "step": None}

    def init(self) -> None:
        file, function, step = (self.attributes[k] for k in ("file", "function", "step"))
        if not isinstance(file, str) or not file:
            raise InvalidFlow('@r needs file="<script>.R", the R file that defines the function')
        if (function is None) == (step is None):
            raise InvalidFlow('@r needs function="<name>" (the R function that runs the step)')
        for value in (function, step):
            if value is not None and not isinstance(value, str):
                raise InvalidFlow("@r: function and step are names, as text")

    def step_init(self, graph: Any, step_name: str) -> None:
        if not self.statically_defined:
            raise InvalidFlow(
                f"step '{step_name}': @r cannot be given with --with: put @r(file=..., "
                "function=...) above the step"
            )

    def source_path(self, func: Any) -> str:
        """The R file, relative to the file that defines the flow."""
        file = self.attributes["file"]
        if os.path.isabs(file):
            return file
        module = sys.modules.get(getattr(func, "__module__", ""))
        base = os.path.dirname(os.path.abspath(getattr(module, "__file__", None) or "."))
        return os.path.join(base, file)


def r(func: Any = None, **kwargs: Any) -> Any:
    """``@r(file="model.R", function="fit")`` above (or below) ``@step``."""
    if func is not None:
        return _Misused("r", '@r takes arguments: @r(file="model.R", function="fit")')
    try:
        deco: StepDecorator = RDecorator(kwargs)
    except InvalidFlow as ex:
        deco = _Misused("r", str(ex))
        return deco

    def apply(f: Callable[..., Any]) -> Any:
        @functools.wraps(f)
        def r_step(self: Any, *args: Any) -> Any:
            from headwater.plugins.r_session import run_r_step

            assert isinstance(deco, RDecorator)
            attrs = deco.attributes
            source = deco.source_path(f)
            run_r_step(self, source, attrs["function"], attrs["step"], args[0] if args else None)
            return f(self, *args)

        return attach(r_step, deco)

    return apply


r.decorator_class = RDecorator  # type: ignore[attr-defined]


def named_decorator(name: str, **kwargs: Any) -> Any:
    """The step decorator registered as ``name`` (a flow written in R names them so), applied
    with ``kwargs``."""
    from headwater.core.decorators import make_step_decorator, registered

    cls = registered(name)
    if cls is None:
        return _Misused(name, f"no step decorator named '{name}' is installed")
    return make_step_decorator(cls)(**kwargs)
