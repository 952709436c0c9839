"""Production tokens: one per deployed name, kept in the datastore beside the flow's runs.

As in Metaflow, the first deployment of a name makes a token; every run of the deployment
carries the system tag ``production:<token>``, so ``namespace("production:<token>")`` shows
exactly the runs of that deployment. Deploying the same name again keeps the token (the
deployment's history stays in one namespace) unless a new one is asked for. The record lives
at ``<Flow>/_deployments/<target>.<name>.json`` in the datastore.
"""

from __future__ import annotations

import json
import secrets

from headwater.datastore.storage import KeyNotFound, check_part

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore


def _key(flow: str, target: str, name: str) -> str:
    return f"{check_part(flow, 'flow')}/_deployments/{check_part(f'{target}.{name}', 'name')}.json"


def read_deployment(ds: Datastore, flow: str, target: str, name: str) -> dict[str, Any] | None:
    """The record of a deployment, or None when the name was never deployed."""
    try:
        return json.loads(bytes(ds.storage.get(_key(flow, target, name))))
    except KeyNotFound:
        return None


def production_token(
    ds: Datastore, flow: str, target: str, name: str, new_token: bool = False
) -> tuple[str, bool]:
    """The deployment's token and whether it was made now."""
    old = read_deployment(ds, flow, target, name)
    if old is not None and old.get("production_token") and not new_token:
        return str(old["production_token"]), False
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40]
    return f"{slug}-{secrets.token_hex(4)}", True


def save_deployment(ds: Datastore, flow: str, target: str, name: str, record: dict) -> None:
    ds.storage.put(_key(flow, target, name), [json.dumps(record, sort_keys=True).encode()])


def delete_deployment(ds: Datastore, flow: str, target: str, name: str) -> None:
    ds.storage.delete(_key(flow, target, name))
