"""The code inside every DAG file ``python flow.py airflow create`` writes.

It runs in Airflow's Python (the scheduler, the DAG processor, the workers), where headwater
is not installed: it imports nothing from headwater. Every headwater task runs as a command,
``python flow.py step STEP --run-id R ...``, with the Python and settings recorded in the DAG
file. The compiler (:mod:`headwater.plugins.airflow.dag_file`) writes ``CONFIG`` (the flow's
units, steps, parameters, schedule) above a copy of this file, and ``build_dag(CONFIG)`` below.

headwater reads this module only as text, and its tests import it to check the planning
functions, which need no Airflow.

How a run goes: the first task runs ``init`` (the run's id is derived from Airflow's run id,
its parameters come from the DAG run's params) and the start step. Each task leaves a report
(``step --output-dir``: its path, transition and split stack) in XCom under ``reports``. A
unit that runs at most once per run plans its own task from the reports of the units before
it, and is skipped when none leads to it (a switch arm not chosen). A unit inside a foreach is
mapped (``.expand``) over a list of jobs (input paths and split index, never the split values)
made by the unit before it or by a ``plan_<unit>`` task. A loop (a switch that goes back) is
one task that runs its steps one after the other until the loop is left.
"""

import hashlib
import json
import os
import shlex
import subprocess
import tempfile
import time

try:  # in Airflow
    from airflow.sdk import BaseOperator
except ImportError:  # read by headwater, which writes but never runs this file
    BaseOperator = object

NO_RETRY_EXIT_CODE = 202
REPORTS_KEY = "reports"


# --- planning: no Airflow needed --------------------------------------------------------------


def headwater_run_id(dag_id, airflow_run_id):
    """The headwater run id of an Airflow DAG run: the same for every task of the DAG run."""
    digest = hashlib.sha256(f"{dag_id}/{airflow_run_id}".encode()).hexdigest()
    return f"airflow-{digest[:16]}"


def plan_jobs(step, reports, is_join):
    """The jobs (tasks to run) of ``step`` that the finished tasks in ``reports`` lead to.

    A job is ``{"step", "input_paths", "split_index"}``. A foreach gives one job per split;
    a join gets one job per complete split (its inputs in split order)."""
    jobs = []
    groups: dict = {}
    for rep in reports:
        t = rep.get("transition") or {}
        if step not in (t.get("targets") or ()):
            continue
        if is_join:
            top = rep["stack"][-1]
            group = groups.setdefault((top["step"], top["task"]), [top["num_splits"], {}])
            group[1][top["index"]] = rep["input_path"]
        elif t["kind"] == "foreach":
            for i in range(int(t.get("num_splits") or 0)):
                jobs.append({"step": step, "input_paths": [rep["input_path"]], "split_index": i})
        else:
            jobs.append({"step": step, "input_paths": [rep["input_path"]], "split_index": None})
    for (split_step, split_task), (n, arrived) in groups.items():
        if len(arrived) != n:
            raise RuntimeError(
                f"join {step}: {len(arrived)} of the {n} splits of {split_step}/{split_task} "
                "arrived"
            )
        paths = [arrived[i] for i in sorted(arrived)]
        jobs.append({"step": step, "input_paths": paths, "split_index": None})
    return jobs


def unit_jobs(unit, steps, reports):
    """The jobs of every step through which ``unit`` is entered."""
    jobs = []
    for step in unit["entries"]:
        jobs += plan_jobs(step, reports, steps[step]["is_join"])
    return jobs


def parameter_args(params, values):
    """``--name value`` words for ``init`` from the DAG run's parameter values."""
    args = []
    for spec in params:
        value = values.get(spec["name"])
        if value is None:
            continue
        flag = "--" + spec["name"]
        if spec.get("is_flag"):
            if value is True or str(value).lower() in ("true", "1", "yes"):
                args.append(flag)
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif spec.get("json") and not isinstance(value, str):
            text = json.dumps(value)
        elif spec.get("separator") and isinstance(value, (list, tuple)):
            text = spec["separator"].join(str(v) for v in value)
        else:
            text = str(value)
        args += [flag, text]
    return args


def step_argv(config, job, run_id, retry_count, max_retries, output_dir):
    argv = [config["python"], config["flow_file"], *config["top_args"], "step", job["step"]]
    argv += ["--run-id", run_id, "--retry-count", str(retry_count)]
    argv += ["--max-user-code-retries", str(max_retries), "--output-dir", output_dir]
    if job["input_paths"]:
        argv += ["--input-paths", ",".join(job["input_paths"])]
    if job.get("split_index") is not None:
        argv += ["--split-index", str(job["split_index"])]
    return argv


def init_argv(config, run_id, values):
    argv = [config["python"], config["flow_file"], *config["top_args"], "init"]
    argv += ["--run-id", run_id, "--runtime", "airflow"]
    if config.get("production_token"):
        argv += ["--production-token", config["production_token"]]
    for tag in config.get("tags", []):
        argv += ["--tag", tag]
    return argv + parameter_args(config["params"], values)


def pod_arguments(config, unit, job, run_id, values):
    """The arguments of a @kubernetes step's pod (``bash -c SCRIPT``) for one job."""
    step_args = []
    if job["input_paths"]:
        step_args += ["--input-paths", ",".join(job["input_paths"])]
    if job.get("split_index") is not None:
        step_args += ["--split-index", str(job["split_index"])]
    init_args = parameter_args(config["params"], values)
    script = unit["pod_script"].replace("__HW_RUN_ID__", shlex.quote(run_id))
    script = script.replace("__HW_INIT_ARGS__", " ".join(shlex.quote(w) for w in init_args))
    script = script.replace("__HW_STEP_ARGS__", " ".join(shlex.quote(w) for w in step_args))
    return [script]


class StepFailed(Exception):
    """A task failed; ``retryable`` False when retrying cannot help."""

    def __init__(self, message, retryable):
        super().__init__(message)
        self.retryable = retryable


class Commands:
    """Runs headwater's commands with the DAG file's Python, settings and directory."""

    def __init__(self, config, log):
        self.config = config
        self.log = log

    def env(self):
        env = dict(os.environ)
        env.update(self.config["env"])
        return env

    def run(self, argv):
        self.log.info("running %s", " ".join(argv))
        proc = subprocess.Popen(
            argv,
            cwd=self.config["cwd"],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None  # stdout=PIPE
        for line in proc.stdout:
            self.log.info("%s", line.rstrip("\n"))
        return proc.wait()

    def init(self, run_id, values):
        code = self.run(init_argv(self.config, run_id, values))
        if code != 0:
            raise StepFailed(f"init of run {run_id} failed (exit code {code})", True)

    def step(self, job, run_id, retry_count, max_retries):
        """Run one attempt of one task; its report, or StepFailed."""
        with tempfile.TemporaryDirectory(prefix="headwater-") as out:
            argv = step_argv(self.config, job, run_id, retry_count, max_retries, out)
            code = self.run(argv)
            report_file = os.path.join(out, "task.json")
            if code == 0 and os.path.exists(report_file):
                with open(report_file, encoding="utf-8") as fh:
                    return json.load(fh)
        what = f"step {job['step']} of run {run_id} failed (exit code {code})"
        raise StepFailed(what, code != NO_RETRY_EXIT_CODE)

    def step_with_retries(self, job, run_id, retries, delay_s):
        """All the attempts of one task, for a loop's steps (Airflow retries the others)."""
        for attempt in range(retries + 1):
            try:
                return self.step(job, run_id, attempt, retries)
            except StepFailed as ex:
                if not ex.retryable or attempt == retries:
                    raise
                self.log.info("retrying %s in %s s", job["step"], delay_s)
                time.sleep(delay_s)
        raise AssertionError("unreachable")


def walk_loop(unit, steps, jobs, run_one):
    """Run a loop's tasks one after the other from ``jobs``; the reports of every task run.

    ``run_one(job)`` runs one task and returns its report. A task whose transition leads out
    of the loop ends that path; the units after the loop plan from its report."""
    members = set(unit["steps"])
    queue = list(jobs)
    reports: list = []
    seen_joins: set = set()
    while queue:
        job = queue.pop(0)
        report = run_one(job)
        reports.append(report)
        for target in (report.get("transition") or {}).get("targets") or ():
            if target not in members:
                continue
            if steps[target]["is_join"]:
                queue += _complete_joins(target, reports, seen_joins)
            else:
                queue += plan_jobs(target, [report], False)
    return reports


def _complete_joins(step, reports, seen):
    out = []
    for rep in reports:
        if step not in ((rep.get("transition") or {}).get("targets") or ()):
            continue
        top = rep["stack"][-1]
        key = (step, top["step"], top["task"])
        if key in seen:
            continue
        group = [
            r
            for r in reports
            if r.get("stack")
            and r["stack"][-1]["task"] == top["task"]
            and step in ((r.get("transition") or {}).get("targets") or ())
        ]
        if len(group) == top["num_splits"]:
            seen.add(key)
            out += plan_jobs(step, group, True)
    return out


def pull_reports(ti, config, source_ids):
    """The reports of every task of the units ``source_ids`` (skipped ones have none)."""
    reports: list = []
    for uid in source_ids:
        unit = config["units"][uid]
        value = ti.xcom_pull(task_ids=uid, key=unit.get("reports_key", REPORTS_KEY))
        _flatten(value, reports)
    return reports


def _flatten(value, out):
    """Reports from what XCom gives: a task's list, a list of them (one per mapped
    instance), or a mapped task's only instance's list."""
    if isinstance(value, dict):
        out.append(value)
    elif value is not None and not isinstance(value, str):
        for item in value:
            _flatten(item, out)


# --- Airflow operators ------------------------------------------------------------------------


class HeadwaterUnit(BaseOperator):
    """One unit of the flow: its task (or, in a loop, its tasks) as headwater commands."""

    ui_color = "#cfe8f3"

    def __init__(self, *, hw_config, unit_id, job=None, **kwargs):
        super().__init__(**kwargs)
        self.hw_config = hw_config
        self.unit_id = unit_id
        self.job = job

    def execute(self, context):
        from airflow.exceptions import AirflowFailException, AirflowSkipException

        config = self.hw_config
        unit = config["units"][self.unit_id]
        steps = config["steps"]
        ti = context["ti"]
        run_id = headwater_run_id(self.dag_id, context["dag_run"].run_id)
        commands = Commands(config, self.log)
        retry_count = max(0, int(ti.try_number) - 1)
        try:
            if self.job is not None:
                jobs = [self.job]
            elif unit["id"] == config["start_unit"]:
                commands.init(run_id, dict(context["params"]))
                jobs = [{"step": config["start_step"], "input_paths": [], "split_index": None}]
            else:
                jobs = unit_jobs(unit, steps, pull_reports(ti, config, unit["sources"]))
                if not jobs:
                    raise AirflowSkipException("no task of the run leads here")
            if unit["is_loop"]:

                def run_one(job):
                    policy = steps[job["step"]]
                    return commands.step_with_retries(
                        job, run_id, policy["retries"], policy["retry_delay_s"]
                    )

                reports = walk_loop(unit, steps, jobs, run_one)
            else:
                if len(jobs) != 1:
                    raise AirflowFailException(f"{unit['id']} got {len(jobs)} tasks, not one")
                reports = [commands.step(jobs[0], run_id, retry_count, self.retries)]
        except StepFailed as ex:
            if ex.retryable:
                raise RuntimeError(str(ex)) from None
            raise AirflowFailException(str(ex)) from None
        ti.xcom_push(key=REPORTS_KEY, value=reports)
        direct = unit.get("direct")
        if direct is None:
            return None
        jobs = unit_jobs(config["units"][direct], steps, reports)
        if unit["mapped"]:  # one-to-one: this instance's one successor
            return jobs[0] if jobs else None
        return jobs


class HeadwaterPlan(BaseOperator):
    """The jobs of a mapped unit, from the reports of the units before it."""

    ui_color = "#eeeeee"

    def __init__(self, *, hw_config, unit_id, **kwargs):
        super().__init__(**kwargs)
        self.hw_config = hw_config
        self.unit_id = unit_id

    def execute(self, context):
        config = self.hw_config
        unit = config["units"][self.unit_id]
        if unit["id"] == config["start_unit"]:
            jobs = [{"step": config["start_step"], "input_paths": [], "split_index": None}]
        else:
            reports = pull_reports(context["ti"], config, unit["sources"])
            jobs = unit_jobs(unit, config["steps"], reports)
        if not unit.get("kubernetes"):
            return jobs
        run_id = headwater_run_id(self.dag_id, context["dag_run"].run_id)
        params = dict(context["params"])
        return [pod_arguments(config, unit, job, run_id, params) for job in jobs]


# --- the DAG ----------------------------------------------------------------------------------


def _schedule(config):
    schedule = config.get("schedule")
    assets = config.get("assets") or []
    if assets:
        from airflow.sdk import Asset

        condition = None
        for uri in assets:
            asset = Asset(uri)
            condition = asset if condition is None else condition | asset
        return condition
    if not schedule:
        return None
    if config.get("timezone"):
        from airflow.timetables.trigger import CronTriggerTimetable

        return CronTriggerTimetable(schedule, timezone=config["timezone"])
    return schedule


def _params(config):
    from airflow.sdk import Param

    out = {}
    for spec in config["params"]:
        kwargs = {"description": spec.get("help") or None}
        if spec.get("schema_type"):
            kwargs["type"] = [spec["schema_type"], "null"]
        out[spec["name"]] = Param(spec.get("default"), **kwargs)
    return out


def build_dag(config):
    """The Airflow DAG of the flow described by ``config``."""
    import datetime

    from airflow.sdk import DAG, Asset

    default_args = {"owner": config.get("owner") or "headwater"}
    dag = DAG(
        dag_id=config["dag_id"],
        description=config.get("description") or None,
        schedule=_schedule(config),
        start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        catchup=False,
        max_active_tasks=config["max_workers"],
        params=_params(config),
        tags=["headwater", config["flow"]],
        default_args=default_args,
        doc_md=config.get("doc_md") or None,
    )
    made: dict = {}
    with dag:
        for uid in config["order"]:
            unit = config["units"][uid]
            made[uid] = _unit_task(config, unit, made, Asset)
    return dag


def _unit_task(config, unit, made, asset_cls):
    import datetime

    kwargs = {"task_id": unit["id"], "hw_config": config, "unit_id": unit["id"]}
    if not unit["is_loop"]:
        kwargs["retries"] = unit["retries"]
        kwargs["retry_delay"] = datetime.timedelta(seconds=unit["retry_delay_s"])
    if unit.get("timeout_s"):
        kwargs["execution_timeout"] = datetime.timedelta(seconds=unit["timeout_s"])
    if unit.get("outlets"):
        kwargs["outlets"] = [asset_cls(uri) for uri in unit["outlets"]]
    planned_by = unit["planned_by"]
    if unit.get("kubernetes"):
        return _pod_task(config, unit, made, kwargs)
    if not unit["mapped"]:
        task = HeadwaterUnit(trigger_rule="none_failed", **kwargs)
        for src in unit["sources"]:
            made[src] >> task
        return task
    if planned_by == "plan":
        plan = HeadwaterPlan(
            task_id=f"plan_{unit['id']}",
            hw_config=config,
            unit_id=unit["id"],
            trigger_rule="none_failed",
        )
        for src in unit["sources"]:
            made[src] >> plan
        return HeadwaterUnit.partial(**kwargs).expand(job=plan.output)
    return HeadwaterUnit.partial(**kwargs).expand(job=made[planned_by].output)


def _pod_task(config, unit, made, kwargs):
    """A @kubernetes step: a KubernetesPodOperator mapped over the pods its plan makes."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    plan = HeadwaterPlan(
        task_id=f"plan_{unit['id']}",
        hw_config=config,
        unit_id=unit["id"],
        trigger_rule="none_failed",
    )
    for src in unit["sources"]:
        made[src] >> plan
    kwargs = {k: v for k, v in kwargs.items() if k not in ("hw_config", "unit_id")}
    pod = KubernetesPodOperator.partial(
        name=unit["pod_name"],
        namespace=unit["namespace"],
        pod_template_dict=unit["pod"],
        cmds=["bash", "-c"],
        do_xcom_push=True,
        get_logs=True,
        **kwargs,
    )
    return pod.expand(arguments=plan.output)
