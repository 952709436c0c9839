"""The harness's machinery: implementations, settings, outcomes, timed commands in fresh
directories with the same environment, and the alternation of arms.

Imports nothing from headwater or Metaflow; used by harness.py and client_scenarios.py.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows"


@dataclass(frozen=True)
class Impl:
    """One implementation: its name, the interpreter of its venv, its import name."""

    name: str
    python: str
    module: str


@dataclass(frozen=True)
class Settings:
    quick: bool
    repeat: int  # runs per implementation for quick runs
    repeat_slow: int  # Metaflow foreach100, headwater foreach10000
    repeat_import: int
    numpy_fill: str
    keep: bool  # keep the temporary directories of failed runs


@dataclass
class Outcome:
    """The figures of one scenario, as printed and as saved."""

    name: str
    target: str
    headwater_s: float | None = None
    metaflow_s: float | None = None
    ratio: float | None = None
    passed: bool | None = None
    notes: list[str] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class RunFailed(Exception):
    """A benchmarked command exited non-zero."""


class Bench:
    """Runs commands for the scenarios in fresh directories under one temporary base."""

    def __init__(self, hw: Impl, mf: Impl, base: Path, keep: bool) -> None:
        self.hw = hw
        self.mf = mf
        self.base = base
        self.keep = keep
        self.counter = 0
        # directories kept after a successful run for later scenarios (client_scenarios.py)
        self.kept: dict[str, Path] = {}

    def env(self, workdir: Path) -> dict[str, str]:
        """The same environment for both implementations: no METAFLOW_*/HEADWATER_* settings
        from outside, a fixed user, every store inside ``workdir``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "HEADWATER_"))}
        env.update(
            USER="bench",
            USERNAME="bench",
            LOGNAME="bench",
            METAFLOW_HOME=str(workdir / "metaflow-home"),
            METAFLOW_DATASTORE_SYSROOT_LOCAL=str(workdir),
            HEADWATER_ROOT=str(workdir / ".headwater"),
        )
        env.pop("PYTHONPATH", None)
        return env

    def new_dir(self, label: str) -> Path:
        self.counter += 1
        path = self.base / f"{self.counter:04d}-{label}"
        path.mkdir()
        return path

    def run_flow(
        self,
        impl: Impl,
        template: str,
        args: list[str],
        watch_rss: bool = False,
        keep_as: str | None = None,
        workdir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> tuple[float, dict[str, int]]:
        """Time ``python flow.py run ARGS`` in a fresh directory; return (seconds, memory).

        ``memory`` (kB) is filled when ``watch_rss``: ``maxrss_upper`` is ru_maxrss from wait4
        on the run process (its own peak or a reaped descendant's, whichever is larger) and
        ``vmhwm_sampled`` the run process's own VmHWM, last read shortly before it exited.

        With ``keep_as``, the directory of a run that succeeds is kept as
        ``self.kept[keep_as]`` (replacing, and deleting, the one kept before under that name).
        With ``workdir``, the run happens in that existing directory, next to its earlier runs,
        and the directory stays. ``extra_env`` adds to the environment (a team's stores).
        """
        given = workdir is not None
        if workdir is None:
            workdir = self.new_dir(f"{impl.name}-{Path(template).stem}")
        source = (FLOWS / template).read_text()
        (workdir / "flow.py").write_text(switch_import(source, impl.module))
        cmd = [impl.python, "flow.py", "run", *args]
        memory: dict[str, int] = {}
        with open(workdir / "output.log", "wb") as log:
            start = time.perf_counter()
            env = {**self.env(workdir), **(extra_env or {})}
            proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
            sampler = HwmSampler(proc.pid) if watch_rss else None
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler is not None:
            memory = {"maxrss_upper": usage.ru_maxrss, "vmhwm_sampled": sampler.stop()}
        self.finish(workdir, proc.returncode, " ".join(cmd), keep=given or keep_as is not None)
        if keep_as is not None:
            self.keep_dir(keep_as, workdir)
        return seconds, memory

    def keep_dir(self, name: str, workdir: Path) -> None:
        old = self.kept.get(name)
        if old is not None and old != workdir:
            shutil.rmtree(old, ignore_errors=True)
        self.kept[name] = workdir

    def run_script(
        self, impl: Impl, workdir: Path, argv: list[str], extra_env: dict[str, str] | None = None
    ) -> tuple[float, str]:
        """Time ``python ARGV`` in an existing directory (kept as it is); return (seconds,
        stdout)."""
        start = time.perf_counter()
        env = {**self.env(workdir), **(extra_env or {})}
        proc = subprocess.run([impl.python, *argv], cwd=workdir, env=env, capture_output=True)
        seconds = time.perf_counter() - start
        if proc.returncode:
            tail = (proc.stdout + proc.stderr).decode(errors="replace").strip().splitlines()[-5:]
            what = " ".join([impl.python, *argv])
            raise RunFailed(f"{what} in {workdir} exited {proc.returncode}: " + " | ".join(tail))
        return seconds, proc.stdout.decode()

    def time_command(self, impl: Impl, argv: list[str]) -> float:
        """Time ``python ARGV`` (no flow) in a fresh directory."""
        workdir = self.new_dir(f"{impl.name}-cmd")
        start = time.perf_counter()
        proc = subprocess.run(
            [impl.python, *argv], cwd=workdir, env=self.env(workdir), capture_output=True
        )
        seconds = time.perf_counter() - start
        if proc.returncode:
            (workdir / "output.log").write_bytes(proc.stdout + proc.stderr)
        self.finish(workdir, proc.returncode, " ".join([impl.python, *argv]))
        return seconds

    def finish(self, workdir: Path, returncode: int, what: str, keep: bool = False) -> None:
        """Remove a run's directory (unless ``keep``) or raise RunFailed with its log's tail."""
        if returncode == 0:
            if not keep:
                shutil.rmtree(workdir, ignore_errors=True)
            return
        log = workdir / "output.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        if not self.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        where = f" (kept in {workdir})" if self.keep else ""
        raise RunFailed(f"{what} exited {returncode}{where}: " + " | ".join(tail))


class HwmSampler:
    """Reads VmHWM (peak resident set) of one process every 20 ms until stopped."""

    def __init__(self, pid: int) -> None:
        self.path = f"/proc/{pid}/status"
        self.peak_kb = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.done.wait(0.02):
            try:
                with open(self.path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except (OSError, ValueError):
                return

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak_kb


def switch_import(source: str, module: str) -> str:
    """The template with its one ``from headwater import ...`` line importing from module."""
    lines = source.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.startswith("from headwater import ")]
    if len(hits) != 1:
        raise ValueError("a flow template needs exactly one 'from headwater import' line")
    lines[hits[0]] = lines[hits[0]].replace("from headwater", f"from {module}", 1)
    return "".join(lines)


def alternate(
    arms: dict[str, Callable[[], float]], reps: dict[str, int], label: str, settle_s: float = 0
) -> dict[str, list[float]]:
    """Run every arm its number of times, interleaved: round i runs each arm that still has
    repetitions left once, in the given order on even rounds and reversed on odd ones.
    With ``settle_s``, the machine idles that long before each arm, so no arm runs while the
    kernel is still handling what the one before it freed or wrote."""
    samples: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    rnd = 0
    while any(len(samples[n]) < reps[n] for n in names):
        order = names if rnd % 2 == 0 else names[::-1]
        for name in order:
            if len(samples[name]) < reps[name]:
                time.sleep(settle_s)
                seconds = arms[name]()
                samples[name].append(seconds)
                progress(f"  {label:<13} {name:<18} #{len(samples[name])}  {fmt_s(seconds)}")
        rnd += 1
    return samples


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
