"""@parallel gangs on Kubernetes: a Job per task, the workers told the control task's address.

The runtime launches a gang's tasks together, its control task (node 0) first. The control
task's Job is created at once, and its pod tells the task its own address (``--main-ip
$(HEADWATER_POD_IP)``, see manifest). The workers wait in the driver until the pods watch sees
that address (the control pod's ``status.podIP``); then their Jobs are created with it as
``current.parallel.main_ip``. When the control task ends before its pod had an address (its
image never pulled, say), the runtime fails the gang and cancels the workers still waiting:
no Job is ever made for them. A retry of the gang is a new attempt, with an address of its own.

Called from the driver's loop, except ``addressed``, which the pods watch calls.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from typing import Any

    from headwater.runtime.spec import TaskSpec

    GangKey = tuple[str, str, str, str, str, int]


def _key(spec: TaskSpec) -> GangKey:
    top = spec.stack[-1]
    return (spec.flow, spec.run_id, spec.step, top.step, top.task, spec.attempt)


class GangAddresses:
    """The control tasks' addresses of a run's gangs, and the workers waiting for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._controls: dict[str, GangKey] = {}  # the control task's Job name -> its gang
        self._addresses: dict[GangKey, str] = {}
        self._waiting: dict[GangKey, dict[int, tuple[TaskSpec, Mapping[str, Any]]]] = {}
        self._of: dict[int, GangKey] = {}  # a waiting worker's handle -> its gang
        self._ready: list[GangKey] = []  # gangs whose address came, with workers to start

    def add(self, handle: int, spec: TaskSpec, options: Mapping[str, Any]) -> TaskSpec | None:
        """A worker of a gang: its spec to start now (with the address), or None when it waits
        for the control task's pod."""
        key = _key(spec)
        with self._lock:
            address = self._addresses.get(key)
            if address is not None:
                return spec._replace(main_ip=address)
            self._waiting.setdefault(key, {})[handle] = (spec, options)
            self._of[handle] = key
            return None

    def control(self, spec: TaskSpec, job_name: str) -> None:
        """The control task of a gang runs in Job ``job_name`` (recorded before it is made)."""
        with self._lock:
            self._controls[job_name] = _key(spec)

    def addressed(self, job_name: str, pod: Mapping[str, Any]) -> bool:
        """The pods watch saw ``pod`` of Job ``job_name``; True when that gave a gang its
        address and it has workers waiting (the driver should start them)."""
        key = self._controls.get(job_name)
        address = (pod.get("status") or {}).get("podIP")
        if key is None or not address:
            return False
        with self._lock:
            if key in self._addresses:
                return False
            self._addresses[key] = address
            if not self._waiting.get(key):
                return False
            self._ready.append(key)
            return True

    def start_ready(self) -> list[tuple[int, TaskSpec, Mapping[str, Any]]]:
        """The workers to start now, node by node, each given its gang's address."""
        out = []
        with self._lock:
            ready, self._ready = self._ready, []
            for key in ready:
                waiting = self._waiting.pop(key, {})
                for handle, (spec, options) in sorted(
                    waiting.items(), key=lambda item: item[1][0].stack[-1].index
                ):
                    self._of.pop(handle, None)
                    out.append((handle, spec._replace(main_ip=self._addresses[key]), options))
        return out

    def withdraw(self, handle: int) -> bool:
        """Forget a worker still waiting (it was cancelled); False when it is not waiting."""
        with self._lock:
            key = self._of.pop(handle, None)
            if key is None:
                return False
            self._waiting.get(key, {}).pop(handle, None)
            return True
