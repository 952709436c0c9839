"""``headwater service``: the team's metadata service (layer 5), HTTP over PostgreSQL.

Install with ``pip install 'headwater[service]'``. Modules: ``app`` (the FastAPI application and
its endpoints), ``operations`` (the writes, who may make them, idempotency), ``tokens`` (per-user
tokens), ``schemas`` (request and response bodies), ``logs`` (logging without tokens),
``server`` (uvicorn). The client is ``headwater.metadata_store.service_client``.
"""
