from __future__ import annotations

import pytest

from headwater.metadata_store.sqlite import SqliteMetadata


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "root" / "metadata.db"


@pytest.fixture
def store(db_path):
    s = SqliteMetadata(db_path)
    yield s
    s.close()
