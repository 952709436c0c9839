"""Scenarios of the team setup: artifacts in an S3 bucket, records in the metadata service.

Both implementations use the same S3 server (moto's standalone server on loopback, started
here), each run a prefix of its own in one bucket. headwater keeps its records in
``headwater service`` over a PostgreSQL started here (Debian's, in a temp directory); Metaflow
has no such service to point at, so it keeps its records locally (``--metadata local``, its
default), which only makes its side lighter.

- ``team_foreach100``: the 100-way foreach of ``foreach100`` on S3 (target >= 10x).
- ``team_numpy1g``: a 1 GB random float64 artifact saved to S3 and loaded back (target
  >= 2x), and headwater's own save+load, as its tasks record it, against boto3's
  ``upload_file`` + ``download_file`` of the same bytes on the same server (target <= 1.5x).
- ``team_client``: whole client processes over the service: list 1000 runs (< 100 ms), the
  latest successful among them (< 50 ms), and the artifacts of the 1000 tasks of a foreach run
  on S3 (< 1 s).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_core import HERE, Bench, Outcome, Settings, alternate, fmt_s, median, progress

REPO = HERE.parent
BUCKET = "bench"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TeamStores:
    """moto's S3 server, PostgreSQL and the metadata service, started for the scenarios."""

    def __init__(self, python: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="hw-team-bench-"))
        self.count = 0
        port = _free_port()
        self.s3_url = f"http://127.0.0.1:{port}"
        log = open(self.tmp / "moto.log", "wb")  # noqa: SIM115 - the server writes to it
        self.moto = subprocess.Popen(
            [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **CREDENTIALS},
        )
        log.close()
        sys.path.insert(0, str(REPO / "tests"))
        from fixtures.postgres import PostgresCluster, find_bin_dir
        from fixtures.service import ServiceProcess, create_token

        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.cluster = PostgresCluster(bin_dir).init().start()
        self.cluster.wait_ready()
        dsn = self.cluster.create_database("team")
        self.service = ServiceProcess(dsn, self.tmp / "service.log", env={})
        self.service.start("--log-level", "warning")
        self.token = create_token(dsn, "bench")
        self._wait_for_s3()
        self.s3("create_bucket", Bucket=BUCKET)

    def _wait_for_s3(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", int(self.s3_url.rsplit(":", 1)[1])), 1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)

    def s3(self, method: str, **kwargs: Any) -> Any:
        import boto3

        client = boto3.client("s3", endpoint_url=self.s3_url, **_boto_kwargs())
        return getattr(client, method)(**kwargs)

    def prefix(self, label: str) -> str:
        self.count += 1
        return f"s3://{BUCKET}/{label}-{self.count}"

    def headwater_env(self, root: str) -> dict[str, str]:
        return {
            **CREDENTIALS,
            "HEADWATER_DEFAULT_DATASTORE": "s3",
            "HEADWATER_DATASTORE_ROOT": root,
            "HEADWATER_S3_ENDPOINT_URL": self.s3_url,
            "HEADWATER_DEFAULT_METADATA": "service",
            "HEADWATER_SERVICE_URL": self.service.url,
            "HEADWATER_SERVICE_TOKEN": self.token,
        }

    def metaflow_env(self, root: str) -> dict[str, str]:
        return {
            **CREDENTIALS,
            "METAFLOW_DEFAULT_DATASTORE": "s3",
            "METAFLOW_DATASTORE_SYSROOT_S3": root,
            "METAFLOW_S3_ENDPOINT_URL": self.s3_url,
        }

    def close(self) -> None:
        self.service.stop()
        self.cluster.remove()
        self.moto.terminate()
        try:
            self.moto.wait(30)
        except subprocess.TimeoutExpired:
            self.moto.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _boto_kwargs() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": CREDENTIALS["AWS_DEFAULT_REGION"],
    }


_STORES: list[TeamStores] = []


def team_stores(b: Bench) -> TeamStores:
    """The servers, started on first use and kept for the other team scenarios."""
    if not _STORES:
        progress("  (starting moto's S3 server, PostgreSQL and the metadata service)")
        _STORES.append(TeamStores(b.hw.python))
    return _STORES[0]


def close_team_stores() -> None:
    while _STORES:
        _STORES.pop().close()


def _run(b: Bench, impl: Any, template: str, args: list[str], t: TeamStores) -> float:
    root = t.prefix(impl.name)
    env = t.headwater_env(root) if impl is b.hw else t.metaflow_env(root)
    return b.run_flow(impl, template, args, extra_env=env)[0]


def scenario_team_foreach100(b: Bench, s: Settings) -> Outcome:
    t = team_stores(b)
    args = ["--width", "100", "--max-num-splits", "100"]
    out = Outcome("team_foreach100", ">= 10x")
    out.samples = alternate(
        {
            b.hw.name: lambda: _run(b, b.hw, "foreach.py", args, t),
            b.mf.name: lambda: _run(b, b.mf, "foreach.py", args, t),
        },
        {b.hw.name: s.repeat, b.mf.name: s.repeat_slow},
        "team_foreach100",
    )
    out.headwater_s = median(out.samples[b.hw.name])
    out.metaflow_s = median(out.samples[b.mf.name])
    out.ratio = out.metaflow_s / out.headwater_s
    out.passed = out.ratio >= 10
    out.notes.append("both on the same moto S3 server; headwater's records in its service")
    return out


_TRANSFER = """
import os, sys, time, boto3
c = boto3.client("s3", endpoint_url=sys.argv[1])
path, key = sys.argv[2], sys.argv[3]
t0 = time.perf_counter(); c.upload_file(path, "bench", key); t1 = time.perf_counter()
c.download_file("bench", key, path + ".back"); t2 = time.perf_counter()
os.unlink(path + ".back"); c.delete_object(Bucket="bench", Key=key)
print(t1 - t0, t2 - t1)
"""


def scenario_team_numpy1g(b: Bench, s: Settings) -> Outcome:
    t = team_stores(b)
    mb = 128 if s.quick else 1024
    name = f"team_numpy{'128m' if s.quick else '1g'}"
    args = ["--megabytes", str(mb), "--fill", "random"]
    out = Outcome(name, ">= 2x, and save+load <= 1.5x boto3")
    io: list[dict[str, Any]] = []
    data = b.base / "team-array.bin"
    import numpy as np

    np.random.default_rng(0).random(mb * 2**20 // 8).tofile(data)
    boto3_s: list[tuple[float, float]] = []

    def headwater() -> float:
        root = t.prefix("hw-np")
        env = t.headwater_env(root)
        seconds, _ = b.run_flow(b.hw, "numpy_artifact.py", args, extra_env=env, keep_as=name)
        script = [str(HERE / "client" / "numpy_io.py")]
        io.append(json.loads(b.run_script(b.hw, b.kept[name], script, extra_env=env)[1]))
        return seconds

    def boto3_pair() -> float:
        proc = subprocess.run(
            [b.hw.python, "-c", _TRANSFER, t.s3_url, str(data), f"boto3/{len(boto3_s)}"],
            capture_output=True,
            text=True,
            env={**os.environ, **CREDENTIALS},
            check=True,
        )
        up, down = (float(x) for x in proc.stdout.split())
        boto3_s.append((up, down))
        return up + down

    reps = max(1, s.repeat_slow)
    try:
        out.samples = alternate(
            {
                b.hw.name: headwater,
                "boto3": boto3_pair,
                b.mf.name: lambda: _run(b, b.mf, "numpy_artifact.py", args, t),
            },
            {b.hw.name: reps, "boto3": reps, b.mf.name: reps},
            name,
            settle_s=3.0,
        )
    finally:
        data.unlink(missing_ok=True)
        kept = b.kept.pop(name, None)
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
    out.headwater_s = median(out.samples[b.hw.name])
    out.metaflow_s = median(out.samples[b.mf.name])
    out.ratio = out.metaflow_s / out.headwater_s
    save_load = median([r["save_s"] + r["load_s"] for r in io])
    boto = median([u + d for u, d in boto3_s])
    out.extra = {
        "megabytes": mb,
        "save_s": median([r["save_s"] for r in io]),
        "load_s": median([r["load_s"] for r in io]),
        "boto3_upload_s": median([u for u, _ in boto3_s]),
        "boto3_download_s": median([d for _, d in boto3_s]),
        "save_load_over_boto3": save_load / boto,
        "io": io,
    }
    out.passed = out.ratio >= 2 and save_load <= 1.5 * boto
    out.notes.append(
        f"{mb} MB on moto: headwater save+load {fmt_s(out.extra['save_s'])} + "
        f"{fmt_s(out.extra['load_s'])} vs boto3 upload_file+download_file "
        f"{fmt_s(out.extra['boto3_upload_s'])} + {fmt_s(out.extra['boto3_download_s'])}: "
        f"{save_load / boto:.2f}x (target <= 1.5x)"
    )
    return out


_READ = """
import sys, time
t0 = time.perf_counter()
from headwater import Flow, namespace
namespace(None)
op, flow = sys.argv[1], sys.argv[2]
if op == "list_runs":
    result = len([(r.id, r.successful) for r in Flow(flow).runs()])
elif op == "latest":
    result = Flow(flow).latest_successful_run.id
else:
    result = sum(t.data.y for t in Flow(flow)[sys.argv[3]]["body"])
print(result, time.perf_counter() - t0)
"""


def scenario_team_client(b: Bench, s: Settings) -> Outcome:
    """Whole client processes over the service (and S3 for the artifacts)."""
    t = team_stores(b)
    runs = 100 if s.quick else 1000
    out = Outcome(f"team_client{runs}", "list < 100 ms, latest < 50 ms, artifacts < 1 s")
    progress(f"  (recording {runs} runs in the service, and one {runs}-way foreach on S3)")
    _fill_runs(b, t, "TeamReadFlow", runs)
    root = t.prefix("hw-fe")
    env = t.headwater_env(root)
    args = ["--width", str(runs), "--max-num-splits", str(runs)]
    workdir = b.new_dir("team-foreach")
    b.run_flow(b.hw, "foreach.py", args, extra_env=env, workdir=workdir)
    run_id = _latest_run(b, workdir, env, "ForeachFlow")
    samples: dict[str, list[float]] = {"list_runs": [], "latest": [], "artifacts": []}
    ops = {
        "list_runs": ["list_runs", "TeamReadFlow"],
        "latest": ["latest", "TeamReadFlow"],
        "artifacts": ["artifacts", "ForeachFlow", run_id],
    }
    for _ in range(s.repeat):
        for op, argv in ops.items():
            start = time.perf_counter()
            b.run_script(b.hw, workdir, ["-c", _READ, *argv], extra_env=env)
            samples[op].append(time.perf_counter() - start)
    shutil.rmtree(workdir, ignore_errors=True)
    out.samples = samples
    figures = {op: median(v) for op, v in samples.items()}
    out.headwater_s = figures["artifacts"]
    out.extra = figures
    out.passed = (
        figures["list_runs"] < 0.1 and figures["latest"] < 0.05 and (figures["artifacts"] < 1.0)
    )
    out.notes.append(
        f"whole processes: list {runs} runs {fmt_s(figures['list_runs'])} (< 100 ms), latest "
        f"successful {fmt_s(figures['latest'])} (< 50 ms), the artifacts of {runs} tasks on "
        f"S3 {fmt_s(figures['artifacts'])} (< 1 s)"
    )
    return out


_FILL = """
import sys
from headwater.metadata_store.service_client import ServiceMetadata
md = ServiceMetadata(sys.argv[1], token=sys.argv[2])
for i in range(int(sys.argv[4])):
    run = md.create_run(sys.argv[3], "bench", system_tags=["runtime:dev"])
    md.set_run_status(sys.argv[3], run.run_id, "completed" if i % 3 else "failed")
"""


def _fill_runs(b: Bench, t: TeamStores, flow: str, runs: int) -> None:
    """``runs`` runs of ``flow`` in the service (two in three completed), from headwater's
    own python (this harness imports nothing of headwater)."""
    argv = [b.hw.python, "-c", _FILL, t.service.url, t.token, flow, str(runs)]
    subprocess.run(argv, check=True, capture_output=True)


def _latest_run(b: Bench, workdir: Path, env: dict, flow: str) -> str:
    code = (
        "from headwater import Flow, namespace\nnamespace(None)\n"
        f"print(Flow({flow!r}).latest_run.id)\n"
    )
    return b.run_script(b.hw, workdir, ["-c", code], extra_env=env)[1].strip()


TEAM_SCENARIOS = {
    "team_foreach100": scenario_team_foreach100,
    "team_numpy1g": scenario_team_numpy1g,
    "team_client": scenario_team_client,
}
