"""Why a Job or pod failed, read from objects as the API reports them."""

from __future__ import annotations

from headwater.plugins.kubernetes_jobs.pod_failures import job_outcome, pod_outcome


def _job(*conditions, deadline=None) -> dict:
    return {
        "spec": {"activeDeadlineSeconds": deadline} if deadline else {},
        "status": {"conditions": list(conditions)},
    }


def _pod(state: dict, limit: str | None = "2Gi", **status) -> dict:
    resources = {"limits": {"memory": limit}} if limit else {}
    return {
        "spec": {"containers": [{"name": "task", "resources": resources}]},
        "status": {
            **status,
            "containerStatuses": [{"name": "task", "image": "img:1", "state": state}],
        },
    }


def test_a_running_job_has_no_outcome_and_a_complete_one_succeeds():
    assert job_outcome(_job()) is None
    assert job_outcome(_job({"type": "Failed", "status": "False"})) is None
    done = job_outcome(_job({"type": "Complete", "status": "True"}))
    assert done is not None and done.failure is None


def test_oomkilled_wins_over_the_tasks_own_result():
    oom = _pod({"terminated": {"reason": "OOMKilled", "exitCode": 137}})
    outcome = job_outcome(
        _job({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}), [oom]
    )
    assert outcome.failure.startswith(
        "OOMKilled: the task's container ran out of memory (limit 2Gi)"
    )
    assert outcome.overrides_result and outcome.retryable


def test_eviction_and_deadline():
    evicted = pod_outcome(
        _pod({}, phase="Failed", reason="Evicted", message="low on memory.\nmore")
    )
    assert evicted.failure == "Evicted: Kubernetes evicted the task's pod (low on memory.)"
    deadline = job_outcome(
        _job({"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}, deadline=360)
    )
    assert deadline.failure == (
        "TimeoutError: the task's Job ran past its deadline (360 s, @timeout plus a margin): "
        "Kubernetes stopped it"
    )


def test_a_pod_that_cannot_start_fails_without_retry():
    stuck = pod_outcome(_pod({"waiting": {"reason": "ImagePullBackOff", "message": "no such tag"}}))
    assert stuck.failure == (
        "ImagePullBackOff: the task's pod cannot pull its image 'img:1' (no such tag): fix "
        "@kubernetes(image=...) or HEADWATER_KUBERNETES_IMAGE"
    )
    assert not stuck.retryable
    config = pod_outcome(
        _pod(
            {"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "x" not found'}}
        )
    )
    assert config.failure == (
        'CreateContainerConfigError: the task\'s pod cannot be configured (secret "x" not found)'
    )
    # Pulling (not yet backing off) is not decisive.
    assert pod_outcome(_pod({"waiting": {"reason": "ContainerCreating"}})) is None


def test_a_pod_that_exited_before_reporting_says_its_exit_code():
    exited = _pod({"terminated": {"reason": "Error", "exitCode": 2}})
    outcome = job_outcome(
        _job({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}), [exited]
    )
    assert outcome.failure == (
        "TaskDied: the task's pod failed (exit code 2) before the task reported a result"
    )
    assert not outcome.overrides_result  # the task's own result, when there is one, says more
