"""What the ray executor asks Ray for and how it reads Ray's failures (no cluster needed)."""

from __future__ import annotations

import pytest

from headwater.core.decorators import parse_decospec
from headwater.exceptions import InvalidFlow
from headwater.plugins.ray import RayDecorator
from headwater.plugins.ray_cluster.backend import is_loopback, outcome_of, task_environment
from headwater.plugins.ray_cluster.executor import RayExecutor, cluster_address
from headwater.plugins.resources import ResourcesDecorator


def _options(*decorators):
    return RayExecutor.__new__(RayExecutor).step_options("train", list(decorators))["ray"]


def test_ray_and_resources_become_ray_task_resources():
    assert _options(RayDecorator()) == {"num_cpus": 1}
    assert _options(RayDecorator({"cpu": 0.5, "memory": 2048, "gpu": 1})) == {
        "num_cpus": 0.5,
        "num_gpus": 1.0,
        "memory": 2048 << 20,
    }
    # With @resources too, the larger of each amount.
    both = _options(
        RayDecorator({"cpu": 2, "memory": 1024}), ResourcesDecorator({"cpu": 1, "memory": 4096})
    )
    assert both == {"num_cpus": 2.0, "memory": 4096 << 20}
    assert _options(parse_decospec("ray:cpu=3")) == {"num_cpus": 3.0}
    assert _options() == {"num_cpus": 1}  # --executor ray: Ray's own default


@pytest.mark.parametrize("attrs", [{"cpu": 0}, {"memory": -1}, {"gpu": "two"}, {"cpu": True}])
def test_bad_amounts_are_flow_errors(attrs):
    with pytest.raises(InvalidFlow, match="needs a positive number"):
        RayDecorator(attrs)


def test_the_address_comes_from_the_option_then_the_setting(monkeypatch):
    assert cluster_address({}) == "auto"
    monkeypatch.setenv("HEADWATER_RAY_ADDRESS", "10.1.2.3:6379")
    assert cluster_address({}) == "10.1.2.3:6379"
    assert cluster_address({"ray_address": "ray://head:10001"}) == "ray://head:10001"


def test_loopback_addresses():
    assert is_loopback("127.0.0.1:6379") and is_loopback("localhost:1") and is_loopback("[::1]:2")
    assert is_loopback("ray://127.0.0.1:10001")
    assert not is_loopback("10.0.0.5:6379") and not is_loopback("auto")


def test_tasks_get_the_store_settings_and_s3_credentials_only():
    env = {
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_TOKEN": "t",
        "AWS_ACCESS_KEY_ID": "k",
        "HOME": "/root",
        "SECRET_OF_MINE": "x",
    }
    assert task_environment(env) == {
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_TOKEN": "t",
        "AWS_ACCESS_KEY_ID": "k",
    }


def _raised(name: str, message: str = "", base: type = Exception) -> BaseException:
    return type(name, (base,), {})(message)


def test_ray_failures_read_as_task_errors():
    died = outcome_of(_raised("WorkerCrashedError", "The worker died unexpectedly"))
    assert died.failure == "TaskDied: the Ray worker running the task died (WorkerCrashedError)"
    assert died.retryable
    node = outcome_of(_raised("NodeDiedError", "node 12 lost"))
    assert (
        node.failure
        == "TaskDied: the Ray worker running the task died (NodeDiedError: node 12 lost)"
    )
    oom = outcome_of(_raised("OutOfMemoryError", "Task was killed due to the node running low"))
    assert oom.failure.startswith("OutOfMemoryError: Ray stopped the task's worker")
    assert oom.overrides_result
    cancelled = outcome_of(_raised("TaskCancelledError"))
    assert cancelled.failure == "Interrupted: the Ray task was cancelled"


def test_a_failure_before_the_step_names_its_cause():
    error = _raised("RayTaskError(ModuleNotFoundError)", "Traceback ...\nNo module named 'torch'")
    error.cause = ModuleNotFoundError("No module named 'torch'")
    outcome = outcome_of(error)
    assert outcome.failure == (
        "ModuleNotFoundError: No module named 'torch' (on the Ray worker, before the step ran)"
    )
    assert not outcome.retryable and "No module named 'torch'" in outcome.detail
