"""``@resources``: what a step needs; remote executors use it, locally headwater warns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class ResourcesDecorator(StepDecorator):
    name = "resources"
    defaults = {"cpu": 1, "gpu": None, "memory": 4096, "disk": None, "shared_memory": None}
    # The amounts are checked by the executors that use them (requested(), below).


resources = make_step_decorator(ResourcesDecorator)


class Requested(Record):
    """What a step asks a remote executor for (None: nothing asked)."""

    cpu: float | None = None
    memory_mb: float | None = None
    gpu: float | None = None
    disk_mb: float | None = None
    shared_memory_mb: float | None = None


_FIELDS = {
    "cpu": "cpu",
    "memory": "memory_mb",
    "gpu": "gpu",
    "disk": "disk_mb",
    "shared_memory": "shared_memory_mb",
}


def check_amounts(deco: str, attributes: Mapping[str, Any], names: Iterable[str]) -> None:
    """Raise InvalidFlow unless each of ``names`` is None or a positive number (0 for gpu)."""
    for name in names:
        value = attributes.get(name)
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if number < 0 or (number == 0 and name != "gpu") or isinstance(value, bool):
            raise InvalidFlow(f"@{deco}({name}={value!r}) needs a positive number")


def requested(decorators: Iterable[Any], own: str) -> Requested:
    """The resources a step asks for through ``@<own>`` (@ray, @kubernetes) and
    ``@resources``: the larger of the two for each amount either gives."""
    amounts: dict[str, float] = {}
    for deco in decorators:
        if deco.name not in (own, "resources"):
            continue
        check_amounts(deco.name, deco.attributes, [n for n in _FIELDS if n in deco.attributes])
        for name, field in _FIELDS.items():
            value = deco.attributes.get(name)
            if value is not None:
                amounts[field] = max(amounts.get(field, 0.0), float(value))
    return Requested(**amounts)
