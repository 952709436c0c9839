"""Runs ``airflow dags test`` for DAGs, one after the other, in one Airflow process.

Run with the Airflow venv's Python: ``python airflow_driver.py DAG_ID[=CONF_JSON] ...``.
For each DAG it prints ``DAG-RESULT {"dag_id": ..., "run_id": ..., "state": ...}``.
``python airflow_driver.py --describe`` prints ``DAGS {...}``: what Airflow makes of each DAG
file in the dags folder (import errors, schedule, params, tasks and their settings).

This is Airflow's own ``dags test`` command (``airflow.cli.commands.dag_command.dag_test``)
with one difference: Airflow 3 builds a new in-process execution API server for every task
of a test run, which costs seconds per task; here one server serves all tasks. Task
scheduling, mapping, XCom, retries and trigger rules are Airflow's own.
"""

import json
import sys


def main(argv):
    import airflow.sdk.execution_time.supervisor as supervisor

    servers = []
    make_server = supervisor.in_process_api_server

    def one_server():
        if not servers:
            servers.append(make_server())
        return servers[0]

    supervisor.in_process_api_server = one_server

    from airflow.cli import cli_parser
    from airflow.models import DagRun

    parser = cli_parser.get_parser()
    for item in argv:
        dag_id, _, conf = item.partition("=")
        words = ["dags", "test", dag_id]
        if conf:
            words += ["--conf", conf]
        args = parser.parse_args(words)
        error = None
        try:
            args.func(args)
        except SystemExit as ex:  # dags test exits when the DAG run failed
            error = str(ex)
        except Exception as ex:  # noqa: BLE001 - reported to the test
            error = f"{type(ex).__name__}: {ex}"
        runs = sorted(DagRun.find(dag_id=dag_id), key=lambda r: r.id)
        last = runs[-1] if runs else None
        result = {
            "dag_id": dag_id,
            "run_id": last.run_id if last else None,
            "state": str(last.state) if last else None,
            "error": error,
        }
        print("DAG-RESULT " + json.dumps(result), flush=True)


def _assets(timetable):
    condition = getattr(timetable, "asset_condition", None)
    if condition is None:
        return []
    return sorted(getattr(key, "uri", str(key)) for key, _ in condition.iter_assets())


def describe():
    from airflow.models.dagbag import DagBag

    bag = DagBag(include_examples=False)
    out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for task in dag.tasks:
            timeout = task.execution_timeout
            tasks[task.task_id] = {
                "operator": type(task).__name__,
                "mapped": type(task).__name__ == "MappedOperator",
                "retries": task.retries,
                "retry_delay_s": task.retry_delay.total_seconds(),
                "execution_timeout_s": timeout.total_seconds() if timeout else None,
                "trigger_rule": str(task.trigger_rule),
                "upstream": sorted(task.upstream_task_ids),
                "outlets": sorted(getattr(o, "uri", str(o)) for o in task.outlets),
                "partial": {
                    k: v
                    for k, v in getattr(task, "partial_kwargs", {}).items()
                    if k in ("pod_template_dict", "cmds", "namespace", "name", "do_xcom_push")
                },
            }
        timetable = dag.timetable
        out["dags"][dag_id] = {
            "timetable": type(timetable).__name__,
            "summary": getattr(timetable, "summary", None),
            "cron": getattr(timetable, "_expression", None),
            "timezone": str(getattr(timetable, "_timezone", "")) or None,
            "assets": _assets(timetable),
            "params": {k: dag.params[k] for k in dag.params},
            "max_active_tasks": dag.max_active_tasks,
            "tags": sorted(dag.tags),
            "tasks": tasks,
        }
    print("DAGS " + json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--describe"]:
        describe()
    else:
        main(sys.argv[1:])
