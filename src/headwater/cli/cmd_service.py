"""``headwater service``: run the team's metadata service (HTTP over PostgreSQL), and manage
its per-user tokens (``headwater service token create|revoke|list``)."""

from __future__ import annotations

import argparse
import os

from headwater.cli.output import Output
from headwater.exceptions import CommandLineError

DEFAULT_PORT = 8325
DB_SETTING = "HEADWATER_SERVICE_DB"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "service",
        help="run the metadata service (HTTP over PostgreSQL), manage its tokens",
        description="Serve run metadata to a team over HTTP, kept in PostgreSQL.",
    )
    db_help = f"the PostgreSQL database, postgresql://... (default: {DB_SETTING})"
    p.add_argument("--db", default=None, metavar="URL", help=db_help)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--pool-size",
        type=int,
        default=20,
        metavar="N",
        help="database connections the service may open (default 20)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes (default 1); each opens up to --pool-size connections",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="what the service logs on stderr (default info: one line per request)",
    )
    p.set_defaults(func=run)
    commands = p.add_subparsers(dest="service_command", metavar="COMMAND")
    token = commands.add_parser("token", help="create, revoke and list per-user tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="COMMAND", required=True)
    create = token_commands.add_parser("create", help="create a token for USER and print it")
    create.add_argument("user", metavar="USER", help="the user the token writes runs as")
    revoke = token_commands.add_parser("revoke", help="revoke a token, or all tokens of a user")
    revoke.add_argument("who", metavar="USER|TOKEN-ID", help="a token id (tok_...) or a user")
    listing = token_commands.add_parser("list", help="list tokens (never the tokens themselves)")
    for q in (create, revoke, listing):
        q.add_argument("--db", default=argparse.SUPPRESS, metavar="URL", help=db_help)
        q.set_defaults(func=run_token)


def _db(args: argparse.Namespace) -> str:
    db = args.db or os.environ.get(DB_SETTING)
    if not db:
        raise CommandLineError(
            f"no database given: pass --db postgresql://USER@HOST:PORT/DATABASE or set {DB_SETTING}"
        )
    if not db.startswith(("postgresql://", "postgres://")):
        raise CommandLineError(
            f"--db {db.split('@')[-1]!r} is not a PostgreSQL URL: use postgresql://USER@HOST/DB"
        )
    return db


def _need(*modules: str) -> None:
    import importlib

    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise CommandLineError(
            f"headwater service needs {', '.join(missing)}, which is not installed: "
            "pip install 'headwater[service]'"
        )


def run(args: argparse.Namespace, out: Output) -> int:
    _need("fastapi", "uvicorn", "psycopg", "psycopg_pool")
    from headwater.metadata_store.postgres import PostgresMetadata
    from headwater.service.server import prepare, serve

    db = _db(args)
    if not 0 < args.port <= 65535:
        raise CommandLineError(f"--port {args.port} is not a port: use 1 to 65535")
    if args.pool_size < 1:
        raise CommandLineError(f"--pool-size {args.pool_size}: use 1 or more")
    if args.workers < 1:
        raise CommandLineError(f"--workers {args.workers}: use 1 or more")
    if args.host not in LOOPBACK and not args.host.startswith("127."):
        out.warn(
            f"listening on {args.host}: other machines can reach the service; tokens travel in "
            "clear over plain HTTP, so serve it behind a TLS proxy on untrusted networks"
        )
    store = PostgresMetadata(db, pool_max=args.pool_size, label="the metadata service")
    prepare(store)
    url_host = f"[{args.host}]" if ":" in args.host else args.host
    out.info(
        f"headwater metadata service at http://{url_host}:{args.port} (database {store.where}); "
        "press Ctrl-C to stop"
    )
    try:
        serve(store, args.host, args.port, args.log_level, workers=args.workers)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


def run_token(args: argparse.Namespace, out: Output) -> int:
    _need("psycopg", "psycopg_pool")
    from headwater.metadata_store.postgres import PostgresMetadata
    from headwater.service import tokens

    store = PostgresMetadata(_db(args), pool_max=1)
    try:
        if args.token_command == "create":
            token, info = tokens.create(store, args.user)
            out.echo(token)
            out.info(
                f"token {info.token_id} of {info.user} created: it is shown this once; give it "
                "to the client as HEADWATER_SERVICE_TOKEN"
            )
        elif args.token_command == "revoke":
            for info in tokens.revoke(store, args.who):
                out.info(f"revoked token {info.token_id} of {info.user}")
        else:
            import time

            for info in tokens.listing(store):
                created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.created_at))
                state = (
                    "active"
                    if info.revoked_at is None
                    else "revoked "
                    + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.revoked_at))
                )
                out.echo(f"{info.token_id}  {info.user}  created {created}  {state}")
    finally:
        store.close()
    return 0
