"""``python -m headwater.cli.r_helper``: the client of the headwater R package.

The R package starts one helper per R session and asks it questions about flows, runs, steps
and tasks, one JSON line per request on stdin and one per answer on stdout::

    {"op": "describe", "pathspec": "Flow/12/start"}   -> {"ok": true, "value": {...}}
    {"op": "artifact", "pathspec": P, "name": N, "path": F}  (writes the value to F)
    {"op": "log", "pathspec": P, "stream": "stdout"}
    {"op": "flows"}, {"op": "namespace", "ns": NS}, {"op": "get_namespace"},
    {"op": "default_namespace"}, {"op": "metadata"}, {"op": "runs", "flow": F, "tags": [..]}

An error is ``{"ok": false, "error": "<one line>"}``. Values reach R as files in the neutral
codec (R data; an R value stored by an R step is passed on as stored) or as RDS.
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def _when(dt: Any) -> str | None:
    return None if dt is None else dt.isoformat(sep=" ", timespec="seconds")


def _object(pathspec: str) -> Any:
    from headwater import client

    parts = [p for p in pathspec.split("/") if p]
    cls = [client.Flow, client.Run, client.Step, client.Task][len(parts) - 1]
    return cls("/".join(parts))


def describe(pathspec: str) -> dict[str, Any]:
    obj = _object(pathspec)
    kind = type(obj).__name__
    out: dict[str, Any] = {
        "kind": kind,
        "id": obj.id,
        "pathspec": obj.pathspec,
        "created_at": _when(obj.created_at),
        "tags": sorted(obj.tags),
        "parent": obj.parent.pathspec if getattr(obj, "parent", None) is not None else None,
    }
    if kind == "Flow":
        latest, good = obj.latest_run, obj.latest_successful_run
        out["latest_run"] = latest.id if latest is not None else None
        out["latest_successful_run"] = good.id if good is not None else None
        out["children"] = [run.id for run in obj]
        return out
    out["finished_at"] = _when(obj.finished_at)
    if kind == "Run":
        out["finished"] = obj.finished
        out["successful"] = obj.successful
        out["children"] = [s.id for s in obj]
        end = obj.end_task
        out["end_task"] = end.id if end is not None else None
        out["artifacts"] = end.artifact_names() if end is not None else []
        return out
    if kind == "Step":
        out["children"] = [t.id for t in obj]
        return out
    out["finished"] = obj.finished
    out["successful"] = obj.successful
    out["exception"] = obj.exception
    out["index"] = obj.index
    out["artifacts"] = obj.artifact_names()
    out["runtime_name"] = obj.runtime_name
    out["children"] = out["artifacts"]
    return out


def write_artifact(pathspec: str, name: str, path: str) -> str:
    """Write the artifact to ``path`` for R; returns its codec (neutral or rds)."""
    from headwater.serde.neutral import NotNeutral, encode
    from headwater.serde.robject import RObject

    obj = _object(pathspec)
    task = obj.end_task if type(obj).__name__ == "Run" else obj
    if task is None:
        raise LookupError(f"{pathspec} has no end task yet: its artifacts are not there")
    ref = task._artifact_ref(name)
    if ref.codec != "pickle":
        codec, payload = task._ds.load_payload(task._parts[0], ref.key)
        with open(path, "wb") as fh:
            fh.write(payload)
        return codec
    value = task._load(name)
    if isinstance(value, RObject):
        with open(path, "wb") as fh:
            fh.write(value.rds)
        return "rds"
    try:
        pieces = encode(value)
    except NotNeutral as ex:
        t = type(value)
        raise TypeError(
            f"artifact '{name}' of {task.pathspec} is a {t.__module__}.{t.__qualname__}, which "
            f"R cannot read (it holds {ex})"
        ) from None
    with open(path, "wb") as fh:
        for piece in pieces:
            fh.write(piece)
    return "neutral"


def handle(req: dict[str, Any]) -> Any:
    from headwater import client

    op = req.get("op")
    if op == "describe":
        return describe(req["pathspec"])
    if op == "artifact":
        return write_artifact(req["pathspec"], req["name"], req["path"])
    if op == "log":
        task = _object(req["pathspec"])
        return task.stdout if req.get("stream", "stdout") == "stdout" else task.stderr
    if op == "flows":
        return [f.id for f in client.Metaflow()]
    if op == "namespace":
        client.namespace(req.get("ns"))
        return client.get_namespace()
    if op == "get_namespace":
        return client.get_namespace()
    if op == "default_namespace":
        return client.default_namespace()
    if op == "metadata":
        return client.get_metadata()
    if op == "runs":
        return [run.id for run in client.Flow(req["flow"]).runs(*req.get("tags", []))]
    raise ValueError(f"unknown request {op!r}")


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, "value": handle(json.loads(line))}
        except Exception as ex:  # noqa: BLE001 - every failure is an answer for R
            text = str(ex).strip().splitlines()
            reply = {"ok": False, "error": text[0] if text else type(ex).__name__}
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
