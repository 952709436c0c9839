"""``@parallel``: a step that runs as a gang of tasks started together.

``self.next(self.train, num_parallel=4)`` starts four tasks of ``train`` at once: the control
task (``current.parallel.node_index == 0``) and three workers, all with the same inputs.
``current.parallel`` tells each task its place (``num_nodes``, ``node_index``,
``control_task_id``, ``main_ip``); the same facts are in the environment as Metaflow's
``MF_PARALLEL_*`` variables for frameworks that read them. The join after the step receives
every task of the gang. Locally the workers of a gang are started with their control task
even when ``--max-workers`` is reached, so that a gang never waits for its own members; on Ray
a placement group holds the whole gang. The gang succeeds, retries and fails as a whole
(headwater.runtime.gangs).
"""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class ParallelDecorator(StepDecorator):
    """Mark the step that ``self.next(..., num_parallel=N)`` starts N times as a gang."""

    name = "parallel"
    defaults: dict[str, Any] = {}

    def step_init(self, graph: Any, step_name: str) -> None:
        node = graph[step_name]
        if node.is_switch:
            raise InvalidFlow(
                f"@parallel step '{step_name}' is a switch: end it with self.next to a join "
                "step, and switch after that join",
                step=step_name,
            )


parallel = make_step_decorator(ParallelDecorator)
