"""Every Job the kubernetes executor can make is valid for the Kubernetes versions headwater
claims (1.29 to 1.37), checked in strict mode (no unknown field) against the API's schemas;
names and labels follow Kubernetes' rules; nothing secret is in the manifest's text."""

from __future__ import annotations

import json
import re

import pytest

kubernetes_validate = pytest.importorskip("kubernetes_validate")

from headwater.core.decorators import parse_decospec  # noqa: E402
from headwater.plugins.kubernetes import KubernetesDecorator  # noqa: E402
from headwater.plugins.kubernetes_jobs import manifest  # noqa: E402
from headwater.plugins.kubernetes_jobs.executor import KubernetesExecutor  # noqa: E402
from headwater.plugins.resources import ResourcesDecorator  # noqa: E402
from headwater.plugins.timeout import TimeoutDecorator  # noqa: E402
from headwater.runtime.spec import TaskSpec  # noqa: E402

VERSIONS = [f"1.{minor}.0" for minor in range(29, 38)]

SPEC = TaskSpec(
    flow="TrainFlow",
    run_id="1234",
    step="train",
    task_id="56",
    attempt=2,
    root="s3://bucket/prefix",
    datastore="s3",
    inputs=("1234/start/1/0",),
    params="1234/_parameters/0/0",
    user="alice",
    decospecs=("retry:times=2",),
)
POD = manifest.PodSettings(
    env={
        "HEADWATER_DEFAULT_DATASTORE": "s3",
        "HEADWATER_DATASTORE_ROOT": "s3://bucket/prefix",
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_URL": "http://hw.example:8325",
    },
    token_secret="hw-token-trainflow-1234",
    secrets=("s3-credentials",),
    image="registry.example/team/flows:1.4",
    namespace="ml",
)

DECORATOR_SETS = {
    "defaults": [KubernetesDecorator()],
    "everything": [
        KubernetesDecorator(
            {
                "cpu": 2.5,
                "memory": 16000,
                "disk": 50000,
                "gpu": 2,
                "image": "registry.example/gpu:2",
                "namespace": "gpu-jobs",
                "service_account": "trainer",
                "node_selector": "pool=gpu,zone=a",
                "tolerations": [
                    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                    {"key": "spot", "operator": "Equal", "value": "yes", "tolerationSeconds": 60},
                ],
                "secrets": "wandb, hf-token",
                "labels": {"team": "ml"},
                "annotations": {"cost-center": "42"},
            }
        ),
        ResourcesDecorator({"cpu": 4, "memory": 8000, "shared_memory": 2048}),
        TimeoutDecorator({"hours": 2}),
    ],
    "resources only": [ResourcesDecorator({"cpu": 0.5, "memory": 512})],
    "from --with": [parse_decospec("kubernetes:cpu=3,memory=2048,image=x/y:z")],
}


def _job(decorators) -> dict:
    executor = KubernetesExecutor.__new__(KubernetesExecutor)
    options = executor.step_options("train", decorators)
    timeouts = [d.timeout_seconds() for d in decorators if d.timeout_seconds()]
    options["timeout_s"] = timeouts[0] if timeouts else None
    return manifest.as_dict(manifest.job(SPEC, options, POD))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", DECORATOR_SETS)
def test_jobs_validate_strictly(case, version):
    kubernetes_validate.validate(_job(DECORATOR_SETS[case]), version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_token_secret_validates_strictly(version):
    secret = manifest.token_secret("hw-token-x", "ml", "s3cr3t", "TrainFlow", "1234")
    kubernetes_validate.validate(manifest.as_dict(secret), version, strict=True)


def test_what_the_decorators_ask_for_is_in_the_pod():
    job = _job(DECORATOR_SETS["everything"])
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    # @resources and @kubernetes: the larger of each amount.
    assert container["resources"] == {
        "requests": {"cpu": "4", "memory": "16000Mi", "ephemeral-storage": "50000Mi"},
        "limits": {"memory": "16000Mi", "nvidia.com/gpu": "2"},
    }
    assert container["image"] == "registry.example/gpu:2"
    assert job["metadata"]["namespace"] == "gpu-jobs"
    assert pod["serviceAccountName"] == "trainer"
    assert pod["nodeSelector"] == {"pool": "gpu", "zone": "a"}
    assert pod["tolerations"][1] == {
        "key": "spot",
        "operator": "Equal",
        "value": "yes",
        "tolerationSeconds": 60,
    }
    assert [e["secretRef"]["name"] for e in container["envFrom"]] == [
        "s3-credentials",
        "wandb",
        "hf-token",
    ]
    assert pod["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2048Mi"}}
    ]
    assert job["metadata"]["labels"]["team"] == "ml"
    assert job["metadata"]["annotations"]["cost-center"] == "42"
    assert job["spec"]["activeDeadlineSeconds"] == 7200 + manifest.DEADLINE_GRACE_S
    assert job["spec"]["backoffLimit"] == 0 and pod["restartPolicy"] == "Never"


def test_the_pod_runs_the_step_from_the_runs_code_package():
    (container,) = _job(DECORATOR_SETS["defaults"])["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:10] == [
        "python", "-m", "headwater.cli.console", "bootstrap",
        "--flow", "TrainFlow", "--run-id", "1234", "--", "--with",
    ]  # fmt: skip
    assert command[10:14] == ["retry:times=2", "step", "train", "--spec"]
    assert TaskSpec.from_json(command[14]) == SPEC


def test_no_secret_is_in_the_manifest_text():
    text = json.dumps(_job(DECORATOR_SETS["everything"]))
    assert "HEADWATER_SERVICE_TOKEN" in text  # by reference only:
    (container,) = json.loads(text)["spec"]["template"]["spec"]["containers"]
    token = [v for v in container["env"] if v["name"] == "HEADWATER_SERVICE_TOKEN"]
    assert token == [
        {
            "name": "HEADWATER_SERVICE_TOKEN",
            "valueFrom": {
                "secretKeyRef": {
                    "name": "hw-token-trainflow-1234",
                    "key": "HEADWATER_SERVICE_TOKEN",
                }
            },
        }
    ]
    assert all("value" in v or "valueFrom" in v for v in container["env"])


@pytest.mark.parametrize(
    "flow",
    ["TrainFlow", "A" * 200, "Ünïcode_Flow", "x"],
)
def test_names_and_labels_follow_kubernetes_rules(flow):
    spec = SPEC._replace(
        flow=flow, run_id="sched-2026-12-02T10:00:00+00:00", task_id="t-" + "a" * 60
    )
    name = manifest.job_name(spec)
    assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    assert manifest.job_name(spec._replace(attempt=3)) != name
    for value in manifest.labels_of(spec).values():
        assert len(value) <= 63 and re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"cpu": 0}, "@kubernetes(cpu=0) needs a positive number"),
        ({"memory": "lots"}, "@kubernetes(memory='lots') needs a positive number"),
        ({"gpu": 1.5}, "@kubernetes(gpu=1.5) needs a whole number of GPUs"),
        ({"node_selector": "pool"}, "write it as 'key=value,key2=value2'"),
        ({"tolerations": "spot"}, "@kubernetes(tolerations=...) takes a list of dicts"),
        ({"labels": {"a": 1}}, "@kubernetes(labels=...) takes a dict of strings to strings"),
    ],
)
def test_bad_arguments_are_flow_errors(attrs, message):
    from headwater.exceptions import InvalidFlow

    with pytest.raises(InvalidFlow, match=re.escape(message)):
        KubernetesDecorator(attrs)
