"""Metaflow's store settings, honoured by flows that run through the compatibility package.

A Metaflow user's environment names their stores with Metaflow's variables. When a flow (or a
script) imports the ``metaflow`` package that ``headwater metaflow-compat`` writes, each such
variable that is set gives the matching headwater setting its value, unless that one is set
already (headwater's own variables win). Nothing else reads Metaflow's variables: a user with
a real Metaflow configured next to headwater does not see headwater write into Metaflow's
bucket by surprise.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# Metaflow variable -> headwater variable
METAFLOW_VARIABLES = {
    "METAFLOW_DEFAULT_DATASTORE": "HEADWATER_DEFAULT_DATASTORE",
    "METAFLOW_S3_ENDPOINT_URL": "HEADWATER_S3_ENDPOINT_URL",
    "METAFLOW_DEFAULT_METADATA": "HEADWATER_DEFAULT_METADATA",
    "METAFLOW_SERVICE_URL": "HEADWATER_SERVICE_URL",
}


def use_metaflow_settings(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Copy the Metaflow settings that are set into unset headwater ones; returns what it set."""
    env = os.environ if environ is None else environ
    given: dict[str, str] = {}
    for theirs, ours in METAFLOW_VARIABLES.items():
        if env.get(theirs) and not env.get(ours):
            given[ours] = env[theirs]
    # Metaflow keeps one root per datastore kind; the S3 one is the root when S3 is chosen.
    kind = env.get("HEADWATER_DEFAULT_DATASTORE") or given.get("HEADWATER_DEFAULT_DATASTORE")
    root = env.get("METAFLOW_DATASTORE_SYSROOT_S3")
    if kind == "s3" and root and not env.get("HEADWATER_DATASTORE_ROOT"):
        given["HEADWATER_DATASTORE_ROOT"] = root
    env.update(given)
    return given
