from __future__ import annotations

from datastore_backends import backend  # noqa: F401 - the fixture every contract test uses
