"""Reading results back: Metaflow, Flow, Run, Step, Task, DataArtifact (layer 3).

``Flow('HelloFlow').latest_run.data.x`` reads one artifact of the newest run visible in the
namespace. ``metadata()`` picks the datastore root, ``namespace()`` which runs are visible.
"""

from headwater.client.artifacts import DataArtifact
from headwater.client.flow import Flow, Metaflow
from headwater.client.namespaces import default_namespace, get_namespace, namespace
from headwater.client.provider import default_metadata, get_metadata, metadata
from headwater.client.run import Run
from headwater.client.step import Step
from headwater.client.task import Metadata, Task

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
