"""Reading results back: Metaflow, Flow, Run, Step, Task, DataArtifact (layer 3).

``Flow('HelloFlow').latest_run.data.x`` reads one artifact of the newest run visible in the
namespace. ``metadata()`` picks the datastore root, ``namespace()`` which runs are visible.
"""

from __future__ import annotations

from headwater import _lazy_exports

# Each name loads its own module on first use: `Flow(...).latest_run` never imports the
# artifact-reading half of the client.
_EXPORTS: dict[str, str] = {
    "DataArtifact": "headwater.client.artifacts",
    "Flow": "headwater.client.flow",
    "Metaflow": "headwater.client.flow",
    "Metadata": "headwater.client.task",
    "Run": "headwater.client.run",
    "Step": "headwater.client.step",
    "Task": "headwater.client.task",
    "default_metadata": "headwater.client.provider",
    "get_metadata": "headwater.client.provider",
    "metadata": "headwater.client.provider",
    "default_namespace": "headwater.client.namespaces",
    "get_namespace": "headwater.client.namespaces",
    "namespace": "headwater.client.namespaces",
}

__all__ = [
    "DataArtifact",
    "Flow",
    "Metadata",
    "Metaflow",
    "Run",
    "Step",
    "Task",
    "default_metadata",
    "default_namespace",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
]

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.client.artifacts import DataArtifact
    from headwater.client.flow import Flow, Metaflow
    from headwater.client.namespaces import default_namespace, get_namespace, namespace
    from headwater.client.provider import default_metadata, get_metadata, metadata
    from headwater.client.run import Run
    from headwater.client.step import Step
    from headwater.client.task import Metadata, Task


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _EXPORTS)
