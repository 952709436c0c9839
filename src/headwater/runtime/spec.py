"""What the runtime tells a task to do (TaskSpec) and what the task reports back (TaskResult)."""

from __future__ import annotations

import json
import os

from headwater.core.ids import AttemptPath
from headwater.core.splits import Stack, Transition, stack_from_json, stack_to_json
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_INLINE_LIMIT = 64 * 1024
NO_RETRY_EXIT_CODE = 202  # Metaflow's convention: a task exiting with it is not retried


class SpillDir:
    """A private temporary directory for specs too big to pass inline, made on first use
    (most runs never need one, and tempfile costs milliseconds to import)."""

    def __init__(self) -> None:
        self._path: str | None = None

    def path(self) -> str:
        if self._path is None:
            import tempfile

            self._path = tempfile.mkdtemp(prefix="headwater-specs-")
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            import shutil

            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


class TaskSpec(Record):
    """Everything one task attempt needs; JSON-safe so it can cross a process boundary."""

    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    root: str  # the datastore's root: a directory, an s3:// URL
    inputs: tuple[str, ...]  # attempt tokens "run/step/task/attempt" of the parents, in order
    stack: Stack = ()  # split frames, outermost first
    params: str = ""  # attempt token of the run's parameters pseudo-task
    user: str = ""
    tags: tuple[str, ...] = ()
    namespace: str | None = None
    origin_run_id: str | None = None
    max_num_splits: int = 100
    decospecs: tuple[str, ...] = ()  # --with decorators, applied in the task too
    catch_var: str | None = None  # @catch's artifact, when the step has @catch
    print_exception: bool = True
    last_attempt: bool = True  # no retry follows this attempt (so @catch applies)
    fallback: str | None = None  # set: do not run the step, record this failure for @catch
    fallback_traceback: str | None = None
    datastore: str = "local"  # the kind of datastore at ``root``
    # @parallel: the address of the node running the gang's control task, when an executor
    # placed the gang across machines (None: this machine, 127.0.0.1)
    main_ip: str | None = None

    @property
    def path(self) -> AttemptPath:
        return AttemptPath(self.flow, self.run_id, self.step, self.task_id, self.attempt)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"

    def to_json(self) -> str:
        # _asdict() is shallow: no deep copy of the (JSON-safe) fields.
        d = self._asdict()
        d["stack"] = stack_to_json(self.stack)
        return json.dumps(d, separators=(",", ":"))

    def encode(self, spill: SpillDir) -> bytes:
        """The spec as bytes small enough for a socket message or an argv entry.

        A spec that is too big (a join over thousands of inputs) is written to a file in
        ``spill`` and encoded as ``@<path>``.
        """
        text = self.to_json().encode()
        if len(text) <= _INLINE_LIMIT:
            return text
        import tempfile

        fd, path = tempfile.mkstemp(prefix="spec-", suffix=".json", dir=spill.path())
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
        return b"@" + path.encode()

    @classmethod
    def decode(cls, data: bytes) -> TaskSpec:
        if data.startswith(b"@"):
            path = data[1:].decode()
            with open(path, "rb") as fh:
                text = fh.read()
            os.unlink(path)
            return cls.from_json(text)
        return cls.from_json(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> TaskSpec:
        d = json.loads(text)
        d["inputs"] = tuple(d["inputs"])
        d["stack"] = stack_from_json(d["stack"])
        d["tags"] = tuple(d["tags"])
        d["decospecs"] = tuple(d.get("decospecs", ()))
        return cls(**d)


class StepPolicy(Record):
    """What the runtime does around one step's attempts, from its decorators."""

    retries: int = 0
    retry_wait_s: float = 0.0
    timeout_s: float | None = None
    catch_var: str | None = None
    print_exception: bool = True


class TaskResult(Record):
    """What a finished attempt reports: status, transition, failure text, resource figures."""

    ok: bool
    transition: Transition | None = None
    exception: str | None = None  # one-line "Type: message"
    traceback: str | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_kb: int = 0
    save_s: float = 0.0  # time spent saving artifacts (serializing, hashing, writing)
    load_s: float = 0.0  # time spent loading artifacts (reading, checking, unpickling)
    retryable: bool = True  # False: the step asked not to be retried
    caught: str | None = None  # @catch kept this failure and the task counts as successful
    digest: str | None = None  # the artifact digest (headwater.datastore.digest), far stores

    def metadata(self, exit_code: int | None = None) -> dict[str, str]:
        """The task metadata an attempt's end records: resource figures, how it ended."""
        out = {
            "wall_s": f"{self.wall_s:.6f}",
            "cpu_s": f"{self.cpu_s:.6f}",
            "max_rss_kb": str(self.max_rss_kb),
            "artifacts_save_s": f"{self.save_s:.6f}",
            "artifacts_load_s": f"{self.load_s:.6f}",
        }
        if exit_code is not None:
            out["exit_code"] = str(exit_code)
        if self.caught:
            out["caught"] = self.caught
        if self.digest:
            from headwater.datastore.digest import DIGEST_FIELD

            out[DIGEST_FIELD] = self.digest
        return out

    def to_bytes(self) -> bytes:
        d: dict[str, Any] = self._asdict()  # shallow: the transition is replaced by its JSON
        d["transition"] = self.transition.to_json() if self.transition else None
        return json.dumps(d, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> TaskResult:
        d = json.loads(data)
        t = d.get("transition")
        d["transition"] = Transition.from_json(t) if t else None
        return cls(**d)


def exit_result(
    step: str,
    reported: bytes,
    exit_code: int | None,
    wall_s: float,
    timed_out_after: float | None = None,
) -> TaskResult:
    """The result of an attempt whose process has exited: what it reported (``reported``,
    the TaskResult bytes it wrote), else why it died, from its exit code (``-N``: killed by
    signal N). ``timed_out_after``: it was stopped for running over @timeout."""
    if timed_out_after is not None:
        return TaskResult(
            ok=False,
            exception=f"TimeoutError: step '{step}' timed out after "
            f"{_seconds(timed_out_after)} (@timeout); it was stopped",
            wall_s=wall_s,
        )
    if reported:
        try:
            return TaskResult.from_bytes(reported)
        except ValueError:
            pass
    if exit_code is not None and exit_code < 0:
        import signal

        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        why = f"TaskDied: the task process was killed by {name}"
    else:
        why = f"TaskDied: the task process exited with code {exit_code} before reporting a result"
    return TaskResult(
        ok=False, exception=why, wall_s=wall_s, retryable=exit_code != NO_RETRY_EXIT_CODE
    )


def _seconds(s: float) -> str:
    return f"{s:g} s" if s < 120 else f"{s / 60:g} min"
