"""What pages read: a page of runs out of 1,000 with a constant number of store calls, tag and
status filters, step states, and the graph from the store when no graph was saved."""

from __future__ import annotations

from collections import Counter

import pytest

from headwater.exceptions import ObjectNotFound
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.metadata_store.sqlite import SqliteMetadata
from headwater.ui.pages.flows import flows_page
from headwater.ui.pages.run import run_page
from headwater.ui.pages.runs import runs_page
from headwater.ui.queries import StepState, Stores, list_runs, run_detail


class Counting:
    """Counts calls to the wrapped store's methods."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = Counter()

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return call


@pytest.fixture(scope="module")
def big_root(tmp_path_factory):
    """1,000 runs of BigFlow (every 10th tagged "ten", every 7th failed), and 3 other flows."""
    root = tmp_path_factory.mktemp("big") / ".headwater"
    md = SqliteMetadata(root / "metadata.db")
    for i in range(1, 1001):
        run = md.create_run(
            "BigFlow", "ann", tags=["ten"] if i % 10 == 0 else [], system_tags=["user:ann"]
        )
        status = RunStatus.FAILED if i % 7 == 0 else RunStatus.COMPLETED
        md.set_run_status("BigFlow", run.run_id, status)
    for name in ("AFlow", "BFlow", "CFlow"):
        md.create_run(name, "bob")
    md.close()
    return root


@pytest.fixture
def stores(big_root):
    s = Stores(big_root)
    s.metadata = Counting(s.metadata)
    yield s
    s.close()


def test_first_page_is_the_newest_runs_and_one_listing_call(stores):
    p = list_runs(stores, "BigFlow")
    assert [r.run_id for r in p.runs] == [str(n) for n in range(1000, 950, -1)]
    assert p.has_next and p.page == 1
    assert stores.metadata.calls["list_runs"] == 1
    assert sum(stores.metadata.calls.values()) <= 2  # the flow lookup and the listing


def test_last_page_and_beyond(stores):
    last = list_runs(stores, "BigFlow", page=20)
    assert [r.run_id for r in last.runs][-1] == "1" and not last.has_next
    assert list_runs(stores, "BigFlow", page=21).runs == []


def test_tag_and_status_filters(stores):
    tagged = list_runs(stores, "BigFlow", tags=["ten"], page=2)
    assert len(tagged.runs) == 50 and not tagged.has_next
    assert tagged.runs[0].run_id == "500" and all("ten" in r.tags for r in tagged.runs)
    failed = list_runs(stores, "BigFlow", status=RunStatus.FAILED)
    assert failed.runs[0].run_id == "994" and failed.has_next
    assert {r.status for r in failed.runs} == {RunStatus.FAILED}
    both = list_runs(stores, "BigFlow", tags=["ten"], status=RunStatus.FAILED)
    assert [r.run_id for r in both.runs] == [str(n) for n in range(980, 0, -70)]


def test_pages_render_with_a_constant_number_of_store_calls(stores):
    page = runs_page(stores, "BigFlow", {"tag": ["ten"], "status": ["failed"], "page": ["1"]})
    assert "run 980" in page.body and "run 910" in page.body
    assert sum(stores.metadata.calls.values()) <= 2
    stores.metadata.calls.clear()
    front = flows_page(stores)
    assert "BigFlow" in front.body and "run 1000" in front.body
    # one listing, then one indexed latest-run lookup per flow (4 flows)
    assert stores.metadata.calls["list_flows"] == 1
    assert stores.metadata.calls["latest_run"] == 4


def test_bad_query_values_fall_back_to_defaults(stores):
    page = runs_page(stores, "BigFlow", {"status": ["bogus"], "page": ["-3"]})
    assert "run 1000" in page.body


def test_unknown_flow_and_run(stores):
    with pytest.raises(ObjectNotFound, match="no flow 'Nope'"):
        list_runs(stores, "Nope")
    with pytest.raises(ObjectNotFound, match="has no run '5000'"):
        run_detail(stores, "BigFlow", "5000")


def test_step_states_and_edges_from_tasks_when_no_graph_was_saved(tmp_path):
    root = tmp_path / ".headwater"
    md = SqliteMetadata(root / "metadata.db")
    run = md.create_run("F", "ann")
    start = md.create_task("F", run.run_id, "start")
    md.start_attempt("F", run.run_id, "start", start.task_id, 0)
    md.finish_attempt("F", run.run_id, "start", start.task_id, 0, TaskStatus.SUCCEEDED)
    for _ in range(2):
        t = md.create_task("F", run.run_id, "work", parents=[start.pathspec])
        md.start_attempt("F", run.run_id, "work", t.task_id, 0)
    md.finish_attempt("F", run.run_id, "work", t.task_id, 0, TaskStatus.FAILED, "E: x")
    md.finish_task("F", run.run_id, "work", t.task_id, TaskStatus.FAILED)
    md.close()
    stores = Stores(root)
    d = run_detail(stores, "F", "1")
    states = {s.name: (s.state, s.total, s.failed, s.running) for s in d.steps}
    assert states == {
        "start": (StepState.SUCCEEDED, 1, 0, 0),
        "work": (StepState.RUNNING, 2, 1, 1),  # still going; the failure is in the counts
    }
    assert [(e.src, e.dst) for e in d.edges] == [("start", "work")]
    page = run_page(stores, "F", "1")
    assert page.poll == "/api/run/F/1"  # the run is still going: the page is live
    assert (
        "1/2 tasks done" not in page.body and "0/2 tasks done · 1 failed · 1 running" in page.body
    )
    stores.close()


def test_a_running_task_page_is_live_and_a_finished_one_is_not(tmp_path):
    from headwater.ui.live import task_status
    from headwater.ui.pages.task import task_page

    root = tmp_path / ".headwater"
    md = SqliteMetadata(root / "metadata.db")
    run = md.create_run("F", "ann")
    t = md.create_task("F", run.run_id, "start")
    md.start_attempt("F", run.run_id, "start", t.task_id, 0)
    stores = Stores(root)
    page = task_page(stores, "F", "1", "start", "1", {})
    assert page.poll == "/api/task/F/1/start/1"
    assert task_status(stores, "F", "1", "start", "1", None)["done"] is False
    md.finish_attempt("F", run.run_id, "start", t.task_id, 0, TaskStatus.SUCCEEDED)
    assert task_status(stores, "F", "1", "start", "1", None)["done"] is True
    assert task_page(stores, "F", "1", "start", "1", {}).poll is None
    md.close()
    stores.close()


def test_run_page_lists_configs_with_the_parameters(tmp_path):
    from ui_helpers import run_flow_file

    root = tmp_path / ".headwater"
    settings = {"alpha": 0.5, "retries": 0, "project": "uiproj", "resources": {"cpu": 1}}
    (tmp_path / "settings.json").write_text(str(settings).replace("'", '"'))
    proc = run_flow_file(root, "config_flow.py")
    assert proc.returncode == 0, proc.stderr
    stores = Stores(root)
    rows = {(p.name, p.kind): p.value for p in run_detail(stores, "ConfigFlow", "1").parameters}
    stores.close()
    assert rows[("alpha", "parameter")] == "0.5"
    assert "'project': 'uiproj'" in rows[("cfg", "config")]
    assert ("extra", "config") in rows and ("LIMIT", "constant") in rows
