"""``headwater configure``: write the settings file; ``headwater configure show``: what is in
force and where each value comes from."""

from __future__ import annotations

import argparse
import os
import sys

from headwater.cli.output import Output
from headwater.exceptions import CommandLineError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# option dest -> (settings field, prompt)
FIELDS = {
    "datastore": ("datastore", "Datastore (local or s3)"),
    "datastore_root": ("datastore_root", "Datastore root (a directory, or s3://bucket/prefix)"),
    "s3_endpoint_url": ("s3_endpoint_url", "S3 endpoint URL (empty: AWS)"),
    "metadata": ("metadata", "Metadata (local or service)"),
    "service_url": ("service_url", "Metadata service URL (http://host:8325)"),
    "service_token": ("service_token", "Your service token"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "configure",
        help="write your settings file (datastore, metadata service, token)",
        description="Write the settings file headwater reads (see docs/commands/settings.md). "
        "Give values as options, or answer the questions in a terminal. Values not given keep "
        "what the file had; an empty value removes a setting.",
    )
    p.add_argument("--datastore", default=None, help="local or s3")
    p.add_argument("--datastore-root", default=None, help="a directory, or s3://bucket/prefix")
    p.add_argument("--s3-endpoint-url", default=None, help="an S3-compatible endpoint")
    p.add_argument("--metadata", default=None, help="local or service")
    p.add_argument("--service-url", default=None, help="the metadata service's URL")
    p.add_argument(
        "--service-token",
        default=None,
        help="your token for the service (`headwater service token create USER` makes one); "
        "- reads it from standard input",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["show"],
        default=None,
        metavar="show",
        help="show: print the settings in force and where each comes from",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: Output) -> int:
    if args.action == "show":
        return show(out)
    from headwater.settings import VARIABLES, read_settings_file, settings_path

    path = settings_path()
    current = read_settings_file(path)
    given = {dest: getattr(args, dest) for dest in FIELDS}
    if given["service_token"] == "-":
        given["service_token"] = sys.stdin.readline().strip()
    if all(v is None for v in given.values()):
        if not sys.stdin.isatty():
            raise CommandLineError(
                "configure needs values: give them as options (see headwater configure --help), "
                "or run it in a terminal to be asked"
            )
        given = _ask(current, out)
    new = dict(current)
    for dest, value in given.items():
        if value is None:
            continue
        var = VARIABLES[FIELDS[dest][0]]
        if value == "":
            new.pop(var, None)
        else:
            new[var] = value
    _check(new)
    _write(path, new)
    out.success(f"Wrote {path}")
    return show(out)


def _ask(current: dict[str, str], out: Output) -> dict[str, str | None]:
    from headwater.settings import VARIABLES

    answers: dict[str, str | None] = {}
    for dest, (field, prompt) in FIELDS.items():
        have = current.get(VARIABLES[field], "")
        shown = ("****" + have[-4:]) if field == "service_token" and have else have
        if field == "service_token":
            import getpass

            value = getpass.getpass(f"{prompt} [{shown}]: ")
        else:
            out.err.write(f"{prompt} [{shown}]: ")
            out.err.flush()
            value = sys.stdin.readline().rstrip("\n")
        answers[dest] = value.strip() or None  # Enter keeps the current value
    return answers


def _check(values: dict[str, str]) -> None:
    from headwater import registry
    from headwater.settings import VARIABLES

    kinds = (("datastore", "storage", "datastore"), ("metadata", "metadata", "metadata"))
    for field, group, what in kinds:
        value = values.get(VARIABLES[field])
        if value is not None and registry.target(group, value) is None:
            known = ", ".join(registry.names(group))
            raise CommandLineError(f"no {what} named {value!r}: use one of {known}")
    if values.get(VARIABLES["datastore"], "local") != "local":
        root = values.get(VARIABLES["datastore_root"], "")
        if not root:
            raise CommandLineError("a non-local datastore needs a root: give --datastore-root")
    if values.get(VARIABLES["metadata"]) == "service":
        url = values.get(VARIABLES["service_url"], "")
        if not url.startswith(("http://", "https://")):
            raise CommandLineError(
                "the metadata service needs its URL (http://host:port): give --service-url"
            )


def _write(path: str, values: dict[str, str]) -> None:
    """Write the file atomically, readable by its owner only (it may hold a token)."""
    import json

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(values, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def show(out: Output) -> int:
    from headwater.settings import (
        SECRET_FIELDS,
        VARIABLES,
        load_settings,
        read_settings_file,
        settings_path,
    )

    path = settings_path()
    in_file = read_settings_file(path)
    settings = load_settings()
    out.echo(f"settings file: {path}{'' if os.path.exists(path) else ' (none)'}")
    for field, var in VARIABLES.items():
        value: Any = getattr(settings, field)
        if var in os.environ and os.environ[var]:
            source = "environment"
        elif var in in_file:
            source = "settings file"
        else:
            source = "default"
        if value is None:
            shown = "-"
        elif field in SECRET_FIELDS:
            shown = "****" + str(value)[-4:]
        else:
            shown = str(value)
        out.echo(f"  {var:<28} {shown:<40} ({source})")
    return 0
