"""`stsenv ls`: every profile, its kind and region, and what the cache holds for it. No STS calls."""

import json
import sys
import time

from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.errors import StsenvError


def register(commands):
    parser = commands.add_parser("ls", help="list profiles with their kind, region and cached credentials")
    parser.add_argument("--names", action="store_true", help="profile names only, one per line (for completions)")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def describe(config, broker, name):
    """{"profile", "kind", "region", "expires", "seconds_left"} for one profile; kind 'error' when it does not resolve."""
    row = {"profile": name, "kind": "", "region": config.value(config.profiles[name], "region") or "", "expires": None, "seconds_left": None}
    try:
        source = config.resolve(name)
    except StsenvError as error:
        row["kind"] = "error: " + error.message
        return row
    row["kind"] = profile_kind(config, name, source)
    cached = broker.cache.read(source) if source.cacheable else None
    if cached is not None and cached.remaining() > 0:
        row["expires"] = cached.expiration
        row["seconds_left"] = int(cached.remaining())
    return row


def profile_kind(config, name, source):
    kind = {"mfa-session": "mfa source", "assume-role": "role", "process": "credential_process"}.get(source.kind, source.kind)
    if config.profiles[name].get("credential_process", "").split()[-2:-1] == ["serve"]:
        kind += " (served by stsenv)"
    return kind


def run(args):
    config = AwsConfig()
    names = sorted(config.profiles)
    if args.names:
        sys.stdout.write("".join(f"{name}\n" for name in names))
        return 0
    broker = Broker(Options(interactive=False))
    rows = [describe(config, broker, name) for name in names]
    if args.output == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    table = [("PROFILE", "KIND", "REGION", "CREDENTIALS")]
    for row in rows:
        left = row["seconds_left"]
        state = "-" if left is None else f"{left // 60}m left (until {time.strftime('%H:%M', time.localtime(time.time() + left))})"
        table.append((row["profile"], row["kind"], row["region"] or "-", state))
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        sys.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3] + "\n")
    return 0
