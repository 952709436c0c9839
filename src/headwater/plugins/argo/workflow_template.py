"""A flow as Argo Workflows resources: a WorkflowTemplate, a CronWorkflow with @schedule, and
an Argo Events Sensor with @trigger/@trigger_on_finish (:mod:`.events`).

Every step is a container template running, in a pod with the step's @kubernetes settings,
the same ``step`` command that runs a flow anywhere: the pod unpacks the code package saved
when the flow was deployed, the first task runs ``init`` (parameters from the workflow's
arguments) and each task writes its outputs (``step --output-dir``), which Argo reads as
output parameters: the next task's ``--input-paths``, the foreach's split indexes for
``withParam``, the switch's branch for ``when``. How steps are placed is :mod:`.dag_shape`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from headwater.exceptions import InvalidFlow
from headwater.plugins.argo.dag_shape import MAIN, Node, Shape, dns_name, task_name
from headwater.plugins.deploy import pod_spec
from headwater.plugins.deploy.deployment import TIMEOUT_GRACE_S, Deployment, ParamPlan

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

API_VERSION = "argoproj.io/v1alpha1"
OUTPUT_DIR = "/tmp/headwater-outputs"
RUN_ID = "argo-{{workflow.name}}"
NO_RETRY_EXIT_CODE = 202
_OUTPUT_FILES = {
    "task-id": "task_id",
    "input-path": "input_path",
    "splits": "splits",
    "branch": "branch",
}


def ref(path: str) -> str:
    """An Argo template reference, ``{{path}}``."""
    return "{{" + path + "}}"


def param_text(value: Any) -> str:
    """A parameter's default as the workflow argument's text ("" when it has none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def param_env_name(param: ParamPlan) -> str:
    return "HW_PARAM_" + param.name.upper().replace("-", "_")


def _out(node: Node, which: str) -> str:
    """The output parameter of a node that holds a task path (or the branch)."""
    if node.kind == "loop":
        return "exit-path" if which == "path" else "exit-branch"
    return "input-path" if which == "path" else "branch"


class Compiler:
    def __init__(self, dep: Deployment, code_package: str, environ: Mapping[str, str]) -> None:
        self.dep = dep
        self.package = code_package
        self.environ = environ
        self.shape = Shape(dep.graph, dep.units)
        self.name = dns_name(dep.name)

    # --- step containers ---------------------------------------------------------------------
    def _script(self, step: str) -> str:
        dep = self.dep
        exports = []
        for p in dep.params:
            env = param_env_name(p)
            var = "HEADWATER_RUN_" + p.name.upper().replace("-", "_")
            exports.append(f'if [ -n "${env}" ]; then export {var}="${env}"; fi')
        retries = dep.steps[step].retries
        return pod_spec.step_script(
            dep,
            step,
            self.package,
            runtime="argo-workflows",
            run_id=f'"{RUN_ID}"',
            retry_count='"{{retries}}"' if retries else "0",
            input_paths=None if step == dep.graph.start else "'{{inputs.parameters.input-paths}}'",
            split_index="'{{inputs.parameters.split-index}}'"
            if self.shape.is_body_first(step)
            else None,
            output_dir=OUTPUT_DIR,
            before_init=exports,
        )

    def step_template(self, step: str) -> dict[str, Any]:
        dep = self.dep
        plan = dep.steps[step]
        env = dict(dep.env)
        env.update(plan.environment)
        env_list = pod_spec.env_list(env, dep.secret_env, self.environ)
        if step == dep.graph.start:
            env_list += [
                {"name": param_env_name(p), "value": ref(f"workflow.parameters.{p.name}")}
                for p in dep.params
            ]
        container: dict[str, Any] = {
            "name": "main",
            "image": pod_spec.image(plan, self.environ),
            "command": ["bash", "-c", self._script(step)],
            "env": env_list,
            "resources": pod_spec.resources(plan),
        }
        env_from = pod_spec.env_from(plan)
        if env_from:
            container["envFrom"] = env_from
        template: dict[str, Any] = {"name": f"step-{task_name(step)}"}
        inputs = []
        if step != dep.graph.start:
            inputs.append({"name": "input-paths"})
        if self.shape.is_body_first(step):
            inputs.append({"name": "split-index"})
        if inputs:
            template["inputs"] = {"parameters": inputs}
        template["outputs"] = {
            "parameters": [
                {"name": name, "valueFrom": {"path": f"{OUTPUT_DIR}/{file}"}}
                for name, file in _OUTPUT_FILES.items()
            ]
        }
        pod = pod_spec.pod_settings(plan)
        meta = {k: pod.pop(k) for k in ("labels", "annotations") if k in pod}
        if meta:
            template["metadata"] = meta
        template.update(pod)
        if plan.retries:
            template["retryStrategy"] = {
                "limit": plan.retries,
                "retryPolicy": "Always",
                "expression": f"asInt(lastRetry.exitCode) != {NO_RETRY_EXIT_CODE}",
                "backoff": {"duration": f"{int(plan.retry_delay_s)}s"},
            }
        if plan.timeout_s:
            template["activeDeadlineSeconds"] = int(plan.timeout_s + TIMEOUT_GRACE_S)
        template["container"] = container
        return template

    # --- DAG tasks ---------------------------------------------------------------------------
    def _value(self, node_name: str, which: str, scope: str) -> str:
        node = self.shape.nodes[scope][node_name]
        return ref(f"tasks.{node_name}.outputs.parameters.{_out(node, which)}")

    def _expr_value(self, node: Node, which: str) -> str:
        return f"tasks['{node.name}'].outputs.parameters['{_out(node, which)}']"

    def _condition(self, guard: list[tuple[str, str]], scope: str) -> str:
        parts = []
        for chooser, arm in guard:
            c = self.shape.nodes[scope][chooser]
            parts.append(f"{self._expr_value(c, 'branch')} == '{arm}'")
        return " && ".join(parts)

    def _choose(self, sources: list[Node], within: Node | None, scope: str, which: str) -> str:
        """An expression giving the ``which`` output of the source that ran."""
        if len(sources) == 1:
            return self._expr_value(sources[0], which)
        conds = []
        for src in sources:
            rel = self.shape.relative_guard(src, within)
            if not rel:
                raise InvalidFlow(
                    f"step {(within.step if within else '?')!r} follows "
                    f"{', '.join(s.step for s in sources)} at once, and not through a switch: "
                    "Argo Workflows cannot tell which of them ran"
                )
            conds.append((self._condition(rel, scope), self._expr_value(src, which)))
        expr = conds[-1][1]
        for cond, value in reversed(conds[:-1]):
            expr = f"{cond} ? {value} : ({expr})"
        return expr

    def _input_paths(self, node: Node) -> str | None:
        graph = self.dep.graph
        step = node.step
        if step == graph.start:
            return None
        if node.kind == "step" and self.shape.is_body_first(step):
            return "{{inputs.parameters.input-paths}}"
        scope = node.scope
        sources = [self.shape.nodes[scope][s] for s in node.sources]
        if graph[step].is_join:
            if len(sources) == 1 and sources[0].kind == "body":
                return self._value(sources[0].name, "path", scope)
            if any(self.shape.relative_guard(s, node) for s in sources):
                raise InvalidFlow(
                    f"join {step!r} follows switch arms directly: Argo Workflows needs the arms "
                    "to meet at a step before the join"
                )
            return ",".join(self._value(s.name, "path", scope) for s in sources)
        if len(sources) == 1:
            return self._value(sources[0].name, "path", scope)
        return "{{=" + self._choose(sources, node, scope, "path") + "}}"

    def dag_task(self, node: Node) -> dict[str, Any]:
        scope = node.scope
        task: dict[str, Any] = {"name": node.name}
        params: list[dict[str, str]] = []
        if node.kind == "body":
            task["template"] = f"foreach-{task_name(node.step)}"
            foreach = self.shape.step_node[node.step]
            task["withParam"] = ref(f"tasks.{foreach}.outputs.parameters.splits")
            params = [
                {"name": "input-paths", "value": self._value(foreach, "path", scope)},
                {"name": "split-index", "value": "{{item}}"},
            ]
        else:
            prefix = "loop" if node.kind == "loop" else "step"
            task["template"] = f"{prefix}-{task_name(node.step)}"
            paths = self._input_paths(node)
            if paths is not None:
                params.append({"name": "input-paths", "value": paths})
            if node.kind == "step" and self.shape.is_body_first(node.step):
                params.append({"name": "split-index", "value": "{{inputs.parameters.split-index}}"})
        if params:
            task["arguments"] = {"parameters": params}
        if node.sources:
            joiner = " && " if self.dep.graph[node.step].is_join else " || "
            if node.kind == "body":
                joiner = " && "
            task["depends"] = joiner.join(f"{s}.Succeeded" for s in node.sources)
        if node.chooser_arms:
            conds = []
            for chooser, arm in node.chooser_arms:
                c = self.shape.nodes[scope][chooser]
                branch = ref(f"tasks.{chooser}.outputs.parameters.{_out(c, 'branch')}")
                conds.append(f"'{branch}' == '{arm}'")
            task["when"] = " || ".join(conds)
        return task

    def dag_template(self, scope: str) -> dict[str, Any]:
        nodes = self.shape.nodes[scope]
        tasks = [self.dag_task(n) for n in nodes.values()]
        if scope == MAIN:
            return {"name": "main", "dag": {"tasks": tasks}}
        join = self.dep.graph[scope].matching_join
        assert join is not None, f"scope {scope} is a split step, which has a join"
        ends = [
            nodes[self.shape.step_node[p]]
            for p in self.dep.graph[join].in_funcs
            if self.shape.step_node.get(p) in nodes
        ]
        ends = list({n.name: n for n in ends}.values())
        if len(ends) == 1:
            value_from = {"parameter": self._value(ends[0].name, "path", scope)}
        else:
            value_from = {"expression": self._choose(ends, None, scope, "path")}
        return {
            "name": f"foreach-{task_name(scope)}",
            "inputs": {"parameters": [{"name": "input-paths"}, {"name": "split-index"}]},
            "outputs": {"parameters": [{"name": "input-path", "valueFrom": value_from}]},
            "dag": {"tasks": tasks},
        }

    def loop_template(self, node: Node) -> dict[str, Any]:
        chain = self.shape.loop_chain(node)
        name = f"loop-{task_name(node.step)}"
        again = "next-iteration"
        tasks = []
        prev = None
        for step in chain:
            t: dict[str, Any] = {"name": task_name(step), "template": f"step-{task_name(step)}"}
            source = (
                "{{inputs.parameters.input-paths}}"
                if prev is None
                else (ref(f"tasks.{prev}.outputs.parameters.input-path"))
            )
            t["arguments"] = {"parameters": [{"name": "input-paths", "value": source}]}
            if prev is not None:
                t["depends"] = f"{prev}.Succeeded"
            tasks.append(t)
            prev = task_name(step)
        switch = prev
        entry = node.step
        tasks.append(
            {
                "name": again,
                "template": name,
                "arguments": {
                    "parameters": [
                        {
                            "name": "input-paths",
                            "value": ref(f"tasks.{switch}.outputs.parameters.input-path"),
                        }
                    ]
                },
                "depends": f"{switch}.Succeeded",
                "when": "'" + ref(f"tasks.{switch}.outputs.parameters.branch") + f"' == '{entry}'",
            }
        )
        went_back = f"tasks['{switch}'].outputs.parameters['branch'] == '{entry}'"

        def pick(inner: str, here: str) -> dict[str, Any]:
            return {
                "expression": f"{went_back} ? tasks['{again}'].outputs.parameters['{inner}'] "
                f": tasks['{switch}'].outputs.parameters['{here}']"
            }

        return {
            "name": name,
            "inputs": {"parameters": [{"name": "input-paths"}]},
            "outputs": {
                "parameters": [
                    {"name": "exit-path", "valueFrom": pick("exit-path", "input-path")},
                    {"name": "exit-branch", "valueFrom": pick("exit-branch", "branch")},
                ]
            },
            "dag": {"tasks": tasks},
        }

    # --- resources ---------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        dep = self.dep
        annotations = {
            "headwater.dev/flow": dep.flow,
            "headwater.dev/deployed-name": dep.name,
            "headwater.dev/production-token": dep.production_token,
            "headwater.dev/deployed-by": dep.user,
        }
        if dep.project:
            annotations["headwater.dev/project"] = dep.project
            annotations["headwater.dev/branch"] = dep.branch or ""
        return {
            "name": self.name,
            "namespace": pod_spec.namespace(dep, self.environ),
            "labels": {"app.kubernetes.io/managed-by": "headwater"},
            "annotations": annotations,
        }

    def workflow_template(self) -> dict[str, Any]:
        from headwater.plugins.argo.events import exit_hook

        dep = self.dep
        templates = [self.dag_template(MAIN)]
        templates += [self.dag_template(scope) for scope in self.shape.nodes if scope != MAIN]
        for nodes in self.shape.nodes.values():
            templates += [self.loop_template(n) for n in nodes.values() if n.kind == "loop"]
        templates += [self.step_template(step) for step in dep.graph.nodes]
        spec: dict[str, Any] = {
            "entrypoint": "main",
            "parallelism": dep.max_workers,
            "arguments": {
                "parameters": [
                    {"name": p.name, "value": param_text(p.default)}
                    | ({"description": p.help} if p.help else {})
                    for p in dep.params
                ]
            },
            "templates": templates,
        }
        hook = exit_hook(self)
        if hook is not None:
            spec["templates"].append(hook)
            spec["onExit"] = hook["name"]
        return {
            "apiVersion": API_VERSION,
            "kind": "WorkflowTemplate",
            "metadata": self.metadata(),
            "spec": spec,
        }

    def cron_workflow(self) -> dict[str, Any] | None:
        t = self.dep.triggers
        if not t.cron:
            return None
        spec: dict[str, Any] = {
            "schedules": [t.cron],
            "concurrencyPolicy": "Allow",
            "workflowSpec": {"workflowTemplateRef": {"name": self.name}},
        }
        if t.timezone:
            spec["timezone"] = t.timezone
        return {
            "apiVersion": API_VERSION,
            "kind": "CronWorkflow",
            "metadata": self.metadata(),
            "spec": spec,
        }


def compile_resources(
    dep: Deployment, code_package: str, environ: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The Argo resources of a deployment: the WorkflowTemplate first, then a CronWorkflow
    and a Sensor when the flow has a schedule or triggers."""
    from headwater.plugins.argo.events import sensor

    compiler = Compiler(dep, code_package, environ)
    out = [compiler.workflow_template()]
    cron = compiler.cron_workflow()
    if cron is not None:
        out.append(cron)
    sens = sensor(compiler)
    if sens is not None:
        out.append(sens)
    return out
