"""The s3 datastore against boto3's own transfers, on one S3 server.

    .venv/bin/python benchmarks/s3_transfer.py [--endpoint URL] [--size-mb 1024] [--repeat 3]

Without ``--endpoint`` it starts moto's standalone server on a free loopback port (dummy
credentials); with one, it uses that server and the AWS credentials of the environment, and
makes (then empties and deletes) a bucket of its own.

Measured, alternating the two sides run by run, median of ``--repeat``:

- a numpy array of ``--size-mb`` saved through ``ContentStore(S3Storage)`` (serialized,
  hashed while uploaded in parallel parts) and loaded back by a fresh store (parallel ranged
  GETs, checked against its hash), against boto3's ``upload_file`` + ``download_file`` (its
  TransferManager, default settings) of the same bytes from and to a file;
- small objects (200 bytes): the latency of one ``S3Storage.put`` and ``get`` against
  boto3's ``put_object`` / ``get_object``, and ``put_many`` of 200.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

DUMMY = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
         "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **DUMMY},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("moto's server did not start") from None
            time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", help="an S3 endpoint URL (default: start moto's server)")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--small", type=int, default=200, help="small objects to time")
    args = ap.parse_args()

    server = None
    endpoint = args.endpoint
    if endpoint is None:
        os.environ.update(DUMMY)
        server, endpoint = start_moto()
    try:
        run(endpoint, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait()


def run(endpoint: str, args: argparse.Namespace) -> None:
    import boto3
    import numpy as np

    from headwater.datastore.content_store import ContentStore
    from headwater.datastore.s3_storage import S3Storage

    c = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"hw-bench-{uuid.uuid4().hex[:12]}"
    c.create_bucket(Bucket=bucket)
    root = f"s3://{bucket}/bench"
    n = args.size_mb * (1 << 20) // 8
    arr = np.arange(n, dtype=np.float64)
    tmp = tempfile.mkdtemp(prefix="hw-s3-bench-")
    up_path, down_path = os.path.join(tmp, "up.bin"), os.path.join(tmp, "down.bin")
    S3Storage(root, endpoint).exists("warm/up")  # both sides start with a client made
    c.head_bucket(Bucket=bucket)

    hw_save, hw_load, b3_up, b3_down = [], [], [], []
    try:
        for r in range(args.repeat):
            arr += 1  # new content each time: nothing is deduplicated
            t0 = time.perf_counter()
            key = ContentStore(S3Storage(root, endpoint)).save_values("Bench", {"a": arr})["a"].key
            t1 = time.perf_counter()
            loaded = ContentStore(S3Storage(root, endpoint)).load_value("Bench", key)
            t2 = time.perf_counter()
            assert np.array_equal(loaded, arr)
            del loaded
            hw_save.append(t1 - t0)
            hw_load.append(t2 - t1)
            S3Storage(root, endpoint).delete(f"Bench/blobs/{key[:2]}/{key}")

            arr.tofile(up_path)
            t0 = time.perf_counter()
            c.upload_file(up_path, bucket, f"boto3/{r}")
            t1 = time.perf_counter()
            c.download_file(bucket, f"boto3/{r}", down_path)
            t2 = time.perf_counter()
            b3_up.append(t1 - t0)
            b3_down.append(t2 - t1)
            c.delete_object(Bucket=bucket, Key=f"boto3/{r}")
            os.unlink(down_path)
            print(
                f"  run {r + 1}: headwater save {hw_save[-1]:.2f} s load {hw_load[-1]:.2f} s | "
                f"boto3 upload_file {b3_up[-1]:.2f} s download_file {b3_down[-1]:.2f} s",
                flush=True,
            )
        small = small_objects(c, bucket, S3Storage(root, endpoint), args.small)
    finally:
        for path in (up_path, down_path):
            if os.path.exists(path):
                os.unlink(path)
        os.rmdir(tmp)
        empty_and_delete(c, bucket)

    med = statistics.median
    hw, b3 = med(hw_save) + med(hw_load), med(b3_up) + med(b3_down)
    print(f"\n{args.size_mb} MB numpy array on {endpoint} (median of {args.repeat}):")
    print(f"  headwater  save {med(hw_save):6.2f} s  load {med(hw_load):6.2f} s  total {hw:6.2f} s")
    print(f"  boto3      up   {med(b3_up):6.2f} s  down {med(b3_down):6.2f} s  total {b3:6.2f} s")
    print(f"  ratio headwater / boto3: {hw / b3:.2f} (target <= 1.5)")
    print(f"\nsmall objects ({args.small} of 200 bytes), median per object:")
    for name, value in small.items():
        print(f"  {name:28s} {value * 1000:7.2f} ms")


def small_objects(c, bucket: str, storage, count: int) -> dict[str, float]:
    payload = os.urandom(200)
    names = ("S3Storage.put", "boto3 put_object", "S3Storage.get", "boto3 get_object")
    out: dict[str, list[float]] = {k: [] for k in names}
    for i in range(count):
        t0 = time.perf_counter()
        storage.put(f"small/hw/{i}", [payload])
        t1 = time.perf_counter()
        c.put_object(Bucket=bucket, Key=f"small/b3/{i}", Body=payload)
        t2 = time.perf_counter()
        storage.get(f"small/hw/{i}")
        t3 = time.perf_counter()
        c.get_object(Bucket=bucket, Key=f"small/b3/{i}")["Body"].read()
        t4 = time.perf_counter()
        out["S3Storage.put"].append(t1 - t0)
        out["boto3 put_object"].append(t2 - t1)
        out["S3Storage.get"].append(t3 - t2)
        out["boto3 get_object"].append(t4 - t3)
    result = {k: statistics.median(v) for k, v in out.items()}
    t0 = time.perf_counter()
    storage.put_many([(f"small/many/{i}", payload) for i in range(count)])
    result[f"S3Storage.put_many ({count})"] = (time.perf_counter() - t0) / count
    return result


def empty_and_delete(c, bucket: str) -> None:
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
        for i in range(0, len(keys), 1000):
            c.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000]})
    c.delete_bucket(Bucket=bucket)


if __name__ == "__main__":
    main()
