"""Step decorators named by string (what a flow written in R compiles to)."""

from __future__ import annotations

from headwater import Flow, metadata, namespace


def test_a_decorator_named_by_string_applies(run_flow, hw_root):
    proc = run_flow("named_decorator_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow("NamedDecoratorFlow").latest_run
    assert run.successful
    assert run["start"].task.data.attempt == 1


def test_an_unknown_decorator_name_is_one_line(run_flow):
    proc = run_flow("named_decorator_flow.py", "run", env={"NAMED_DECORATOR": "nosuch"})
    assert proc.returncode != 0
    assert "no step decorator named 'nosuch' is installed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_r_task_starts_with_room_for_millions_of_cells_unless_told_otherwise():
    from headwater.plugins.r_session import r_task_environment

    assert r_task_environment({"PATH": "/bin"}) == {"PATH": "/bin", "R_NSIZE": "5000000"}
    assert r_task_environment({"R_NSIZE": "800000"})["R_NSIZE"] == "800000"  # the user's wins
