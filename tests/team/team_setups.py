"""The stores a team uses, as environments for `python flow.py ...` and the client.

``local+service``: artifacts in the local directory, records in the metadata service (one
machine, several users). ``s3+service``: artifacts in an S3 bucket, records in the service
(the team setup). Both use the session's real PostgreSQL and service (fixtures.service).
"""

from __future__ import annotations

SETUPS = ["local+service", "s3+service"]


def team_env(request, setup: str, user: str) -> dict[str, str]:
    """Environment variables that put a command (and the client) on ``setup`` as ``user``."""
    service = request.getfixturevalue("metadata_service")
    env = {
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_URL": service.url,
        "HEADWATER_SERVICE_TOKEN": service.tokens[user],
        "HEADWATER_USER": user,
    }
    datastore = setup.split("+")[0]
    if datastore == "s3":
        env.update(request.getfixturevalue("s3_bucket").env())
    return env
