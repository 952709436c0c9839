from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import headwater
from headwater import config
from headwater.client import (
    DataArtifact,
    Flow,
    Run,
    Step,
    Task,
    default_metadata,
    get_metadata,
    metadata,
)
from headwater.client import provider as provider_mod
from headwater.exceptions import DatastoreNotFound, MetadataError


def test_package_exports():
    for name in (
        "Metaflow",
        "Flow",
        "Run",
        "Step",
        "Task",
        "DataArtifact",
        "namespace",
        "get_namespace",
        "default_namespace",
        "get_metadata",
    ):
        assert getattr(headwater, name) is getattr(headwater.client, name)
    assert callable(headwater.client.metadata)


def test_top_level_metadata_is_the_function():
    import headwater.metadata_store.sqlite  # noqa: F401 - the subpackage of the same name
    from headwater import metadata as top

    assert top is headwater.client.metadata


def test_top_level_metadata_is_the_function_in_a_fresh_process():
    code = (
        "import headwater.metadata_store.records\n"
        "from headwater import metadata\n"
        "assert callable(metadata), metadata\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_default_root_from_environment(builder, root):
    assert get_metadata() == f"local@{root.resolve()}"


def test_default_root_found_walking_up(builder, root, tmp_path, monkeypatch):
    monkeypatch.delenv("HEADWATER_ROOT")
    sub = tmp_path / "project" / "notebooks"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert get_metadata() == f"local@{root.resolve()}"


def test_no_root_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "find_root", lambda start=None: None)
    for call in (get_metadata, lambda: Flow("HelloFlow"), lambda: Run("HelloFlow/1")):
        with pytest.raises(DatastoreNotFound) as err:
            call()
        assert "\n" not in str(err.value) and "HEADWATER_ROOT" in str(err.value)


def test_metadata_selects_a_root(builder, root, tmp_path, monkeypatch):
    rec = builder.linear()
    monkeypatch.delenv("HEADWATER_ROOT")
    monkeypatch.chdir(tmp_path.parent)
    assert metadata(f"local@{root}") == f"local@{root.resolve()}"
    assert get_metadata() == f"local@{root.resolve()}"
    assert Run(f"HelloFlow/{rec.run_id}").successful
    # the directory holding .headwater works too, and a bare path means local
    assert metadata(str(tmp_path)) == f"local@{root.resolve()}"
    with pytest.raises(DatastoreNotFound):
        metadata(f"local@{tmp_path / 'nowhere'}")
    # a metadata service is selected by its URL (reading it is tested with the service)
    assert metadata("service@http://localhost:8080") == "service@http://localhost:8080"
    assert metadata("https://hw.example:8325") == "service@https://hw.example:8325"
    with pytest.raises(MetadataError, match="must start with http"):
        metadata("service@localhost:8080")
    assert metadata(f"local@{root}") == f"local@{root.resolve()}"
    with pytest.raises(MetadataError, match="unknown metadata provider"):
        metadata("s3@bucket")
    monkeypatch.setattr(config, "find_root", lambda start=None: None)
    with pytest.raises(DatastoreNotFound):
        default_metadata()  # back to the lookup, which finds nothing now


def test_stores_cached_per_root(builder, root):
    rec = builder.linear()
    a = Run(f"HelloFlow/{rec.run_id}")
    b = Flow("HelloFlow")
    assert a._conn is b._conn
    assert provider_mod.connect(root) is a._conn


def test_two_roots_side_by_side(tmp_path, monkeypatch):
    from run_builder import RunBuilder

    one, two = (
        RunBuilder(tmp_path / "one" / ".headwater"),
        RunBuilder(tmp_path / "two" / ".headwater"),
    )
    try:
        one.linear(params={"which": 1})
        two.linear(params={"which": 2})
        metadata(f"local@{one.root}")
        run_one = Flow("HelloFlow").latest_run
        metadata(f"local@{two.root}")
        run_two = Flow("HelloFlow").latest_run
        assert run_one.data.which == 1  # objects keep reading the root they came from
        assert run_two.data.which == 2
    finally:
        one.close()
        two.close()


def test_client_objects_pickle_round_trip(builder):
    rec = builder.linear()
    task_rec = builder.task(
        builder.run(), "start", {"v": "final"}, failures=1, stdout=[b"zero\n", b"one\n"]
    )
    run = Run(f"HelloFlow/{rec.run_id}")
    objects = [
        Flow("HelloFlow"),
        run,
        run["a"],
        run["a"].task,
        run["a"].task["y"],
        Task(task_rec.pathspec, attempt=0),
        DataArtifact(f"{task_rec.pathspec}/v", attempt=0),
    ]
    for obj in objects:
        data = pickle.dumps(obj)
        assert len(data) < 500  # only the address travels, not records or values
        back = pickle.loads(data)
        assert type(back) is type(obj)
        assert back == obj and repr(back) == repr(obj)
    back_run = pickle.loads(pickle.dumps(run))
    assert back_run.data.z == 3 and back_run.successful
    back_task = pickle.loads(pickle.dumps(Task(task_rec.pathspec, attempt=0)))
    assert back_task.stdout == "zero\n" and not back_task.successful
    assert pickle.loads(pickle.dumps(run["a"].task["y"])).data == 2
    data = pickle.loads(pickle.dumps(run.data))
    assert data.z == 3


def test_unpickled_objects_reconnect_through_the_current_provider(builder, root, tmp_path):
    rec = builder.linear()
    blob = pickle.dumps(Step(f"HelloFlow/{rec.run_id}/a"))
    moved = tmp_path / "moved" / ".headwater"
    moved.parent.mkdir()
    root.rename(moved)
    metadata(f"local@{moved}")
    provider_mod._connections.clear()
    step = pickle.loads(blob)
    assert step.task.data.y == 2


def test_listing_runs_is_one_metadata_query(builder, monkeypatch):
    for _ in range(30):
        builder.linear()
    flow = Flow("HelloFlow")
    real = flow._conn.metadata
    calls = []

    class Spy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(flow, "_conn_obj", _spying(flow._conn, Spy()))
    runs = list(flow.runs())
    assert len(runs) == 30
    assert [r.successful for r in runs] == [True] * 30
    assert {len(r.tags) for r in runs} == {3}
    assert calls == ["list_runs"]


def _spying(conn, spy):
    """The same stores as ``conn``, with ``spy`` in front of its metadata."""
    return provider_mod.Connection(
        conn.provider, conn.settings, conn.local_root, spy, conn.datastore
    )
