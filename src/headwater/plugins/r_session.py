"""One R step in one task: an ``Rscript`` process over the headwater R package, served by the
task's own Python process.

The task (a fork of the zygote, or ``python flow.py step``) keeps every datastore and metadata
read and write: R never opens the datastore, so R steps work on any datastore (local, S3) and
metadata backend. The R process gets a JSON file describing the task (``HEADWATER_R_TASK``) and
two pipes; over them it asks for what the step reads and hands over what it assigned, one JSON
line per message::

    R -> Python                                   Python -> R
    {"op": "get", "name": N}                      {"ok": true, "codec": C, "path": P}
    {"op": "input", "i": I, "name": N}            (an artifact of join input I, the same)
    {"op": "foreach_input"}                       (self$input, the same)
    {"op": "put", "name": N, "codec": C,          {"ok": true}
     "type": T, "path": P}
    {"op": "merge", "include": [..],              {"ok": true, "names": [merged names]}
     "exclude": [..]}
    {"op": "done"} / {"op": "error", ...}         (nothing: R exits)

Values travel as files in a private directory, in the neutral codec (R data) or as RDS (other
R objects). A value R wrote is stored as it is, without being decoded in Python; a Python value
is encoded for R when R reads it. The R process writes to the task's own stdout and stderr, so
its output is the task's log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from headwater.exceptions import RError, RSetupError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

PROTOCOL = 1
NO_PACKAGE_EXIT = 78  # the bootstrap's exit status when the headwater R package is missing
_BOOT = (
    'if (!requireNamespace("headwater", quietly = TRUE)) quit(save = "no", status = 78L); '
    "headwater:::task_main()"
)


def rscript() -> str:
    return os.environ.get("HEADWATER_RSCRIPT") or "Rscript"


# R starts with room for 350,000 cons cells and collects garbage each time they run out: a
# step reading a million distinct strings paid a third of its reading time collecting. An R
# task starts with room for 5 million (about 270 MB, taken only as used); R_NSIZE set by the
# user wins.
R_TASK_NSIZE = "5000000"


def r_task_environment(base: dict[str, str]) -> dict[str, str]:
    """The environment of an R step's Rscript process, from ``base``."""
    env = dict(base)
    env.setdefault("R_NSIZE", R_TASK_NSIZE)
    return env


class RStep:
    """Runs one R function over a bound flow object (``self``) and, in a join, its inputs."""

    def __init__(
        self, flow: Any, source: str, function: str | None, step: str | None, inputs: Any
    ) -> None:
        self.flow = flow
        self.binding = flow.__dict__["_hw_binding"]
        self.source = source
        self.function = function
        self.step = step
        self.join_inputs = inputs  # as the join got them (merge_artifacts wants them so)
        self.inputs = list(inputs) if inputs is not None else None
        self.dir = ""
        self.count = 0
        self.failure: dict[str, Any] | None = None

    # --- the process --------------------------------------------------------------------------

    def run(self) -> None:
        import shutil
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="headwater-r-")
        try:
            self._run()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        spec = os.path.join(self.dir, "task.json")
        with open(spec, "w", encoding="utf-8") as fh:
            json.dump(self._spec(req_w, rep_r), fh)
        env = r_task_environment({**os.environ, "HEADWATER_R_TASK": spec})
        env.setdefault("HEADWATER_PYTHON", sys.executable)  # the R client, in this task
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            proc = subprocess.Popen(
                [rscript(), "-e", _BOOT], stdin=subprocess.DEVNULL, env=env, pass_fds=(req_w, rep_r)
            )
        except FileNotFoundError:
            raise RSetupError(
                f"{rscript()} was not found: install R (on Debian: apt-get install r-base-core) "
                "or set HEADWATER_RSCRIPT to its Rscript"
            ) from None
        finally:
            os.close(req_w)
            os.close(rep_r)
        with os.fdopen(req_r, "rb") as requests, os.fdopen(rep_w, "wb") as replies:
            try:
                self._serve(requests, replies)
            finally:
                code = proc.wait()
        self._outcome(code)

    def _outcome(self, code: int) -> None:
        failure = self.failure
        if failure is not None:
            message = str(failure.get("message") or "an R error").strip() or "an R error"
            if failure.get("kind") == "package":
                raise RSetupError(message.splitlines()[0])
            raise RError(message, str(failure.get("traceback") or ""))
        if code == NO_PACKAGE_EXIT:
            raise RSetupError(
                "the headwater R package is not installed in this R: install it with "
                "`R CMD INSTALL r` from headwater's source (see docs/r/README.md)"
            )
        if code != 0 or not self.done:
            raise RError(
                f"the R process of step '{self.binding.path.step}' exited with status {code} "
                "before finishing its step (see its stderr)"
            )

    def _spec(self, req_w: int, rep_r: int) -> dict[str, Any]:
        from headwater.core.current import current

        b = self.binding
        inputs = []
        for inp in self.inputs or ():
            inputs.append(
                {
                    "step": inp._hw_path.step,
                    "task": inp._hw_path.task_id,
                    "index": inp.index,
                    "names": sorted(inp._hw_index.artifacts),
                }
            )
        frames = b._foreach_frames()
        return {
            "protocol": PROTOCOL,
            "source": self.source,
            "function": self.function,
            "step": self.step,
            "join": self.inputs is not None,
            "foreach_join": bool(self.inputs) and all(i["index"] is not None for i in inputs),
            "inputs": inputs,
            "names": sorted(set(b.refs) | {n for n in self.flow.__dict__ if not n.startswith("_")}),
            "index": b.foreach_index(),
            "has_input": bool(frames),
            "request_fd": req_w,
            "reply_fd": rep_r,
            "dir": self.dir,
            "current": {
                "flow_name": current.flow_name,
                "run_id": current.run_id,
                "step_name": current.step_name,
                "task_id": current.task_id,
                "retry_count": current.retry_count,
                "origin_run_id": current.origin_run_id,
                "pathspec": current.pathspec,
                "namespace": current.namespace,
                "username": current.username,
                "tags": sorted(current.tags or ()),
                "parameter_names": list(current.parameter_names or ()),
                "is_running_flow": True,
            },
        }

    # --- serving requests -----------------------------------------------------------------------

    done = False

    def _serve(self, requests: Any, replies: Any) -> None:
        for line in requests:
            msg = json.loads(line)
            op = msg.get("op")
            if op == "done":
                self.done = True
                return
            if op == "error":
                self.failure = msg
                return
            try:
                reply = self._answer(op, msg)
            except Exception as ex:  # noqa: BLE001 - the R step reports it as an R error
                reply = {"ok": False, "error": str(ex).splitlines()[0] if str(ex) else repr(ex)}
            replies.write(json.dumps(reply).encode() + b"\n")
            replies.flush()

    def _answer(self, op: str, msg: dict[str, Any]) -> dict[str, Any]:
        if op == "get":
            return self._send_artifact(msg["name"])
        if op == "input":
            return self._send_input(int(msg["i"]), msg["name"])
        if op == "foreach_input":
            return self._send_value(self.binding.foreach_input(), "self$input")
        if op == "put":
            self._receive(msg["name"], msg["codec"], msg["type"], msg["path"])
            return {"ok": True}
        if op == "merge":
            before = set(self.binding.refs)
            self.flow.merge_artifacts(
                self.join_inputs, include=msg.get("include") or None, exclude=msg.get("exclude")
            )
            return {"ok": True, "names": sorted(set(self.binding.refs) - before)}
        raise RError(f"unknown request {op!r} from the R step")

    def _path(self) -> str:
        self.count += 1
        return os.path.join(self.dir, f"v{self.count}")

    def _send_artifact(self, name: str) -> dict[str, Any]:
        b = self.binding
        if name in self.flow.__dict__:  # set in Python in this task
            return self._send_value(self.flow.__dict__[name], f"self${name}")
        ref = b.refs.get(name)
        if ref is None:
            return {"ok": False, "missing": True}
        return self._send_ref(ref, f"self${name}")

    def _send_input(self, i: int, name: str) -> dict[str, Any]:
        inp = (self.inputs or [])[i]
        ref = inp._hw_index.artifacts.get(name)
        if ref is None:
            return {"ok": False, "missing": True}
        return self._send_ref(ref, f"the input {inp._hw_path.step}'s ${name}")

    def _send_ref(self, ref: Any, what: str) -> dict[str, Any]:
        ds = self.binding.ds
        flow = self.binding.path.flow
        if ref.codec != "pickle":
            codec, payload = ds.load_payload(flow, ref.key)
            path = self._path()
            with open(path, "wb") as fh:
                fh.write(payload)
            return {"ok": True, "codec": codec, "path": path}
        return self._send_value(ds.load_value(flow, ref.key), what)

    def _send_value(self, value: Any, what: str) -> dict[str, Any]:
        from headwater.serde.neutral import NotNeutral, encode
        from headwater.serde.robject import RObject

        path = self._path()
        if isinstance(value, RObject):
            with open(path, "wb") as fh:
                fh.write(value.rds)
            return {"ok": True, "codec": "rds", "path": path}
        try:
            pieces = encode(value)
        except NotNeutral as ex:
            t = type(value)
            raise RError(
                f"{what} is a {t.__module__}.{t.__qualname__}, which R cannot read: it holds "
                f"{ex}; give R data (numbers, text, lists, dicts, numpy arrays, pandas data)"
            ) from None
        with open(path, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
        return {"ok": True, "codec": "neutral", "path": path}

    def _receive(self, name: str, codec: str, type_name: str, path: str) -> None:
        b = self.binding
        if name in b.parameter_attrs or b.is_constant(name):
            raise RError(f"self${name} is a parameter or a constant: it is read-only in steps")
        with open(path, "rb") as fh:
            data = fh.read()
        os.unlink(path)
        ref = b.ds.save_encoded(b.path.flow, name, codec, [data], type_name)
        b.refs[name] = ref
        self.flow.__dict__.pop(name, None)
        b.loaded.pop(name, None)


def run_r_step(
    flow: Any, source: str, function: str | None, step: str | None, inputs: Any = None
) -> None:
    """Run an R step over the bound ``flow``: what it assigns to ``self`` becomes artifacts of
    the task. Raises RError (the R message first, then the R traceback) when it fails."""
    RStep(flow, source, function, step, inputs).run()
