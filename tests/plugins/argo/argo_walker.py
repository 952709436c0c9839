"""A small stand-in for Argo Workflows, for tests: runs a compiled WorkflowTemplate here.

It does what Argo's controller does with the parts headwater compiles: DAG templates run
their tasks in dependency order (``depends`` with ``.Succeeded``, ``when`` conditions,
``withParam`` expanded into one run per item, whose output parameters are gathered into JSON
lists), template references (``{{inputs.parameters.x}}``, ``{{tasks.t.outputs.parameters.x}}``,
``{{workflow.name}}``, ``{{workflow.parameters.x}}``, ``{{item}}``, ``{{retries}}``), the
expressions headwater writes (``{{=...}}`` and ``valueFrom.expression``: ``c ? a : b``,
``==``, ``&&``), recursive templates, ``retryStrategy`` (limit and the exit-code
expression), and container templates, whose command runs as a local process with the
container's environment; output parameters are read from their ``valueFrom.path`` files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

_REF = re.compile(r"\{\{([^{}]+)\}\}")
_EXPR = re.compile(r"\{\{=(.+?)\}\}")
_TASK_OUT = re.compile(r"tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\]")


class TaskFailed(Exception):
    pass


def _top_level(text: str, sep: str) -> int:
    depth, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(sep, i):
            return i
    return -1


def evaluate(expr: str, outputs: dict) -> str:
    """An expression of the subset headwater writes."""
    text = expr.strip()
    while text.startswith("(") and text.endswith(")") and _top_level(text[1:-1], ")") == -1:
        text = text[1:-1].strip()
    q = _top_level(text, " ? ")
    if q >= 0:
        cond, rest = text[:q], text[q + 3 :]
        c = _top_level(rest, " : ")
        yes, no = rest[:c], rest[c + 3 :]
        return evaluate(yes, outputs) if _condition(cond, outputs) else evaluate(no, outputs)
    m = _TASK_OUT.fullmatch(text)
    if m is None:
        raise ValueError(f"cannot evaluate {expr!r}")
    return outputs[m.group(1)][m.group(2)]


def _condition(cond: str, outputs: dict) -> bool:
    for part in cond.split(" && "):
        lhs, _, rhs = part.partition(" == ")
        if evaluate(lhs, outputs) != rhs.strip().strip("'"):
            return False
    return True


_EQ = re.compile(r"\s*'([^']*)'\s*==\s*'([^']*)'\s*")


def _equal(text: str) -> bool:
    m = _EQ.fullmatch(text)
    assert m is not None, f"cannot evaluate {text!r}"
    return m.group(1) == m.group(2)


def when_holds(text: str) -> bool:
    """A ``when`` after substitution: ``'a' == 'b'`` joined by ``||`` and ``&&``."""
    return any(all(_equal(p) for p in alt.split("&&")) for alt in text.split("||"))


def depends_holds(text: str, status: dict) -> bool:
    """``a.Succeeded && b.Succeeded`` / ``||``."""

    def one(term: str) -> bool:
        name, _, what = term.strip().partition(".")
        return status[name] == what

    return any(all(one(t) for t in alt.split("&&")) for alt in text.split("||"))


def _depends_on(text: str) -> list[str]:
    return [t.strip().split(".")[0] for t in re.split(r"&&|\|\|", text) if t.strip()]


class Walker:
    def __init__(self, template: dict, workflow_name: str, env: dict, arguments=None):
        self.spec = template["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.workflow_name = workflow_name
        self.env = env
        self.parameters = {
            p["name"]: p.get("value", "") for p in self.spec["arguments"]["parameters"]
        }
        self.parameters.update(arguments or {})
        self.commands: list[str] = []  # every container command run, as run

    def run(self) -> dict:
        return self.run_template(self.spec["entrypoint"], {})

    def _substitute(self, text: str, inputs: dict, outputs: dict, extra: dict) -> str:
        def expr(m):
            return evaluate(m.group(1), outputs)

        text = _EXPR.sub(expr, text)

        def ref(m):
            key = m.group(1).strip()
            if key.startswith("inputs.parameters."):
                return inputs[key[len("inputs.parameters.") :]]
            if key.startswith("workflow.parameters."):
                return self.parameters[key[len("workflow.parameters.") :]]
            if key == "workflow.name":
                return self.workflow_name
            if key.startswith("tasks."):
                task, _, rest = key[len("tasks.") :].partition(".outputs.parameters.")
                return outputs[task][rest]
            if key in extra:
                return extra[key]
            raise KeyError(f"cannot resolve {{{{{key}}}}}")

        return _REF.sub(ref, text)

    def run_template(self, name: str, inputs: dict) -> dict:
        tmpl = self.templates[name]
        declared = [p["name"] for p in tmpl.get("inputs", {}).get("parameters", [])]
        assert sorted(declared) == sorted(inputs), (name, declared, inputs)
        if "dag" in tmpl:
            return self._run_dag(tmpl, inputs)
        return self._run_container(tmpl, inputs)

    def _run_dag(self, tmpl: dict, inputs: dict) -> dict:
        tasks = {t["name"]: t for t in tmpl["dag"]["tasks"]}
        status: dict[str, str] = {}
        outputs: dict[str, dict] = {}
        while len(status) < len(tasks):
            ready = [
                n
                for n, t in tasks.items()
                if n not in status and all(d in status for d in _depends_on(t.get("depends", "")))
            ]
            assert ready, f"nothing can run in {tmpl['name']}: {status}"
            for name in ready:
                task = tasks[name]
                if task.get("depends") and not depends_holds(task["depends"], status):
                    status[name] = "Omitted"
                    continue
                if "when" in task and not when_holds(
                    self._substitute(task["when"], inputs, outputs, {})
                ):
                    status[name] = "Skipped"
                    continue
                try:
                    outputs[name] = self._run_task(task, inputs, outputs)
                    status[name] = "Succeeded"
                except TaskFailed:
                    status[name] = "Failed"
                    raise
        out = {}
        for p in tmpl.get("outputs", {}).get("parameters", []):
            source = p["valueFrom"]
            if "parameter" in source:
                out[p["name"]] = self._substitute(source["parameter"], inputs, outputs, {})
            else:
                out[p["name"]] = evaluate(source["expression"], outputs)
        return out

    def _run_task(self, task: dict, inputs: dict, outputs: dict) -> dict:
        args = task.get("arguments", {}).get("parameters", [])
        if "withParam" not in task:
            given = {a["name"]: self._substitute(a["value"], inputs, outputs, {}) for a in args}
            return self.run_template(task["template"], given)
        items = json.loads(self._substitute(task["withParam"], inputs, outputs, {}))
        gathered: dict[str, list] = {}
        for item in items:
            extra = {"item": str(item)}
            given = {a["name"]: self._substitute(a["value"], inputs, outputs, extra) for a in args}
            for key, value in self.run_template(task["template"], given).items():
                gathered.setdefault(key, []).append(value)
        return {k: json.dumps(v) for k, v in gathered.items()}

    def _run_container(self, tmpl: dict, inputs: dict) -> dict:
        container = tmpl["container"]
        strategy = tmpl.get("retryStrategy")
        limit = int(strategy["limit"]) if strategy else 0
        for attempt in range(limit + 1):
            extra = {"retries": str(attempt)}
            env = dict(self.env)
            for var in container.get("env", []):
                if "value" in var:
                    env[var["name"]] = self._substitute(var["value"], inputs, {}, extra)
            command = [self._substitute(c, inputs, {}, extra) for c in container["command"]]
            for p in tmpl.get("outputs", {}).get("parameters", []):
                shutil.rmtree(os.path.dirname(p["valueFrom"]["path"]), ignore_errors=True)
            self.commands.append(command[-1])
            proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
            if proc.returncode == 0:
                out = {}
                for p in tmpl.get("outputs", {}).get("parameters", []):
                    with open(p["valueFrom"]["path"], encoding="utf-8") as fh:
                        out[p["name"]] = fh.read()
                return out
            self.last_failure = proc.stdout + proc.stderr
            if strategy is None or attempt == limit:
                break
            expression = strategy.get("expression", "")
            m = re.fullmatch(r"asInt\(lastRetry\.exitCode\) != (\d+)", expression)
            if m and proc.returncode == int(m.group(1)):
                break
        raise TaskFailed(f"{tmpl['name']} failed: {self.last_failure[-3000:]}")
