"""What the task page reads: the task, its attempts, one attempt's artifacts (previewed), logs
and card files. Also the raw log and card files the page links to."""

from __future__ import annotations

import time

from headwater.cards.preview import preview_html
from headwater.core.ids import AttemptPath
from headwater.datastore.digest import DIGEST_FIELD
from headwater.exceptions import HeadwaterException, IndexNotFound, ObjectNotFound
from headwater.metadata_store.records import (
    AttemptRecord,
    MetadataEntry,
    RunRecord,
    TaskRecord,
    TaskStatus,
)
from headwater.record import Record
from headwater.ui.queries import Stores

LOG_STREAMS = ("stdout", "stderr")
LOG_TAIL_BYTES = 256 * 1024  # the page shows the end of a longer log, and links to all of it
PREVIEW_MAX_BYTES = 16 * 1024 * 1024  # larger artifacts are listed, not loaded


class ArtifactView(Record):
    name: str
    type: str
    size: int
    preview: str | None  # escaped HTML (cards.preview); None when too big or not loadable
    note: str = ""  # why there is no preview


class LogView(Record):
    stream: str
    text: str
    size: int
    truncated: bool  # only the last LOG_TAIL_BYTES are in ``text``


class CardFile(Record):
    name: str  # file name inside the attempt's cards directory
    title: str


class TaskDetail(Record):
    run: RunRecord
    task: TaskRecord
    attempt: int  # the attempt shown
    attempts: list[AttemptRecord]
    metadata: list[MetadataEntry]
    artifacts: list[ArtifactView]
    artifacts_note: str  # why the list is empty, when it is
    logs: list[LogView]
    cards: list[CardFile]
    now: float

    @property
    def live(self) -> bool:
        return self.task.status is TaskStatus.RUNNING

    @property
    def path(self) -> AttemptPath:
        t = self.task
        return AttemptPath(t.flow, t.run_id, t.step, t.task_id, self.attempt)


def get_task(stores: Stores, flow: str, run_id: str, step: str, task_id: str) -> TaskRecord:
    task = stores.metadata.get_task(flow, run_id, step, task_id)
    if task is None:
        stores.run(flow, run_id)  # an unknown flow or run is reported as such
        raise ObjectNotFound(f"run {flow}/{run_id} has no task {step}/{task_id}")
    return task


def shown_attempt(task: TaskRecord, asked: str | None) -> int:
    """The attempt asked for, else the one that succeeded, else the latest."""
    last = max(task.attempts - 1, 0)
    if asked is not None:
        if not asked.isdigit() or int(asked) > last:
            raise ObjectNotFound(
                f"task {task.pathspec} has no attempt {asked!r}: it has attempts 0 to {last}"
            )
        return int(asked)
    return task.successful_attempt if task.successful_attempt is not None else last


def artifact_views(stores: Stores, path: AttemptPath) -> tuple[list[ArtifactView], str]:
    """The attempt's public artifacts with previews, and why there are none when so."""
    ds = stores.datastore
    try:
        index = ds.read_index(path)
    except IndexNotFound:
        return [], "This attempt saved no artifacts (it is still running, failed, or never ran)."
    except HeadwaterException as ex:
        return [], str(ex)
    out = []
    for name in sorted(index.artifacts):
        if name.startswith("_"):
            continue
        ref = index.artifacts[name]
        if ref.size > PREVIEW_MAX_BYTES:
            out.append(ArtifactView(name, ref.type, ref.size, None, "too large to preview"))
            continue
        try:
            value = ds.load_value(path.flow, ref.key)
        except Exception as ex:  # a user class that does not unpickle here, a missing blob
            note = f"cannot load: {type(ex).__name__}: {ex}"
            out.append(ArtifactView(name, ref.type, ref.size, None, note))
            continue
        out.append(ArtifactView(name, ref.type, ref.size, preview_html(value, max_rows=5)))
    return out, "" if out else "This attempt has no public artifacts."


def _log(stores: Stores, path: AttemptPath, stream: str) -> LogView:
    ds = stores.datastore
    try:
        size = ds.log_size(path, stream)
        if not size:
            return LogView(stream, "", 0, False)
        start = max(0, size - LOG_TAIL_BYTES)
        data = ds.read_log_range(path, stream, start, LOG_TAIL_BYTES)
    except HeadwaterException as ex:
        return LogView(stream, f"(cannot read the log: {ex})", 0, False)
    return LogView(stream, data.decode("utf-8", errors="replace"), size, size > len(data))


def _card_order(name: str) -> tuple[int, str]:
    head = name.split("-", 1)[0]
    return (int(head) if head.isdigit() else 1 << 30, name)


def _card_title(name: str) -> str:
    """``0-default.html`` -> ``default``; ``1-blank-chart.html`` -> ``blank-chart``."""
    stem = name[: -len(".html")]
    head, _, rest = stem.partition("-")
    return rest if head.isdigit() and rest else stem


def list_cards(stores: Stores, path: AttemptPath) -> list[CardFile]:
    """The attempt's ``cards/*.html``, in the order the step declared them."""
    try:
        names = [n for n in stores.datastore.list_cards(path) if n.endswith(".html")]
    except HeadwaterException:
        return []
    return [CardFile(n, _card_title(n)) for n in sorted(names, key=_card_order)]


def task_detail(
    stores: Stores, flow: str, run_id: str, step: str, task_id: str, attempt: str | None = None
) -> TaskDetail:
    task = get_task(stores, flow, run_id, step, task_id)
    run = stores.run(flow, run_id)
    number = shown_attempt(task, attempt)
    path = AttemptPath(flow, run_id, step, task_id, number)
    artifacts, note = artifact_views(stores, path)
    md = stores.metadata
    return TaskDetail(
        run=run,
        task=task,
        attempt=number,
        attempts=md.list_attempts(flow, run_id, step, task_id),
        metadata=[
            e for e in md.get_task_metadata(flow, run_id, step, task_id) if e.field != DIGEST_FIELD
        ],  # the artifact digest is for machines: the artifacts are shown below
        artifacts=artifacts,
        artifacts_note=note,
        logs=[_log(stores, path, s) for s in LOG_STREAMS],
        cards=list_cards(stores, path),
        now=time.time(),
    )


def attempt_path(
    stores: Stores, flow: str, run_id: str, step: str, task_id: str, attempt: str
) -> AttemptPath:
    """The path of an existing attempt of an existing task (else ObjectNotFound)."""
    task = get_task(stores, flow, run_id, step, task_id)
    return AttemptPath(flow, run_id, step, task_id, shown_attempt(task, attempt))


def log_file(stores: Stores, path: AttemptPath, stream: str) -> bytes:
    if stream not in LOG_STREAMS:
        raise ObjectNotFound(f"no log stream {stream!r}: use stdout or stderr")
    return stores.datastore.read_log(path, stream)


def card_html(stores: Stores, path: AttemptPath, name: str) -> bytes:
    """A card of an attempt; only names its cards listing has are served."""
    if name not in {c.name for c in list_cards(stores, path)}:
        raise ObjectNotFound(f"task {path.pathspec} attempt {path.attempt} has no card {name!r}")
    return stores.datastore.read_card(path, name).encode("utf-8")


def log_sizes(stores: Stores, path: AttemptPath) -> tuple[int, ...]:
    """Sizes of the attempt's logs (a running task's page refreshes when they grow)."""
    sizes = []
    for stream in LOG_STREAMS:
        try:
            sizes.append(stores.datastore.log_size(path, stream))
        except HeadwaterException:
            sizes.append(-1)
    return tuple(sizes)
