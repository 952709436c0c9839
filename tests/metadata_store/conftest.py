"""The metadata store contract runs against every implementation: the ``store`` fixture is
parametrised over SQLite, PostgreSQL used directly, and the metadata service (on PostgreSQL)
through its HTTP client. ``open_store()`` makes another store object on the same backend, as
another process would. Tests of one implementation's own machinery live in test_sqlite_*,
test_postgres_* and test_service_* files, with their own fixtures."""

from __future__ import annotations

import pytest

STORE_KINDS = ("sqlite", "postgres", "service")


@pytest.fixture(params=STORE_KINDS)
def store_kind(request):
    return request.param


@pytest.fixture
def open_store(store_kind, tmp_path, request):
    """``open_store()``: a new store object on this test's (empty) backend; closed at the end."""
    if store_kind == "sqlite":
        from headwater.metadata_store.sqlite import SqliteMetadata

        path = tmp_path / "root" / "metadata.db"

        def make():
            return SqliteMetadata(path)

        address = str(path)

    elif store_kind == "postgres":
        from headwater.metadata_store.postgres import PostgresMetadata

        dsn = request.getfixturevalue("pg_dsn")

        def make():
            return PostgresMetadata(dsn, pool_max=4)

        address = dsn

    else:
        make = request.getfixturevalue("service_store")
        address = request.getfixturevalue("metadata_service").url  # the token: in the environment

    made = []

    def open_one():
        made.append(make())
        return made[-1]

    open_one.kind, open_one.address = store_kind, address  # how another process opens it
    yield open_one
    for s in made:
        s.close()


@pytest.fixture
def store(open_store):
    return open_store()
