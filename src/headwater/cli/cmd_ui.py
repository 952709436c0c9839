"""``headwater ui``: serve the local web UI of a datastore root until Ctrl-C."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from headwater import config
from headwater.cli.output import Output
from headwater.exceptions import CommandLineError, DatastoreNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

DEFAULT_PORT = 8324


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="serve a local, read-only web UI of your runs")
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0: any free port)",
    )
    p.add_argument(
        "--root",
        default=None,
        metavar="PATH",
        help="the datastore directory (default: HEADWATER_ROOT, else the nearest .headwater)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow listening on a non-loopback address (anyone who can reach it sees your runs)",
    )
    p.set_defaults(func=run)


def _root(explicit: str | None) -> Path:
    if explicit:
        root = Path(explicit).expanduser().resolve()
    else:
        found = config.find_root()
        if found is None:
            raise DatastoreNotFound(
                "no headwater datastore found from here: run a flow first, or pass --root PATH"
            )
        root = found
    from headwater.stores import local_metadata_file, local_root_given

    root = Path(local_root_given(str(root)))
    database = local_metadata_file(str(root))
    if not os.path.isfile(database):
        raise DatastoreNotFound(
            f"no headwater metadata at {database}: pass --root PATH of a "
            ".headwater directory that has runs"
        )
    return root


def _stores(explicit_root: str | None) -> Any:
    """What the UI reads: ``--root``'s local directory, else the settings (a metadata service
    and its datastore, or the local root found from here)."""
    from headwater.settings import Settings, load_settings
    from headwater.stores import open_stores

    settings = load_settings()
    if explicit_root is None and settings.metadata != "local":
        return open_stores(settings)
    root = str(_root(explicit_root))
    if settings.datastore == "local":
        settings = Settings(datastore="local", datastore_root=root, metadata="local")
    else:
        settings = settings._replace(metadata="local")
    return open_stores(settings, local_root=root)


def run(args: argparse.Namespace, out: Output) -> int:
    from headwater.ui.server import is_loopback, make_server

    stores = _stores(args.root)
    root = stores.describe()
    if not 0 <= args.port <= 65535:
        raise CommandLineError(f"--port {args.port} is not a port: use 0 to 65535")
    if not is_loopback(args.host):
        if not args.allow_remote:
            raise CommandLineError(
                f"--host {args.host} is not a loopback address: add --allow-remote to let other "
                "machines see your runs"
            )
        out.warn(
            f"serving on {args.host}: anyone who can reach this address can read every run, "
            "artifact and log in this datastore"
        )
    try:
        server = make_server(
            stores, args.host, args.port, allow_remote=args.allow_remote, on_error=out.err.write
        )
    except OSError as ex:
        raise CommandLineError(
            f"cannot listen on {args.host}:{args.port} ({ex.strerror or ex}): "
            "choose another --port, or 0 for any free one"
        ) from None
    try:
        out.echo(f"headwater UI at {server.url} (reading {root}); press Ctrl-C to stop")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
