"""`stsenv ls`: every profile, its kind and region, and what the cache holds for it. No STS calls."""

import json
import sys
import time

from stsenv import kinds
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig, served_profile
from stsenv.errors import StsenvError
from stsenv.resolution import resolve


def without_credentials(config, name):
    """`settings only` for a profile that names no credentials (a [default] with a region), else None."""
    section = config.profiles[name]
    if any(config.value(section, key) for key in kinds.CREDENTIAL_SETTINGS):
        return None
    return "settings only"


def register(commands):
    parser = commands.add_parser("ls", help="list profiles with their kind, region and cached credentials")
    parser.add_argument("--names", action="store_true", help="profile names only, one per line (for completions)")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def describe(config, broker, name):
    """{"profile", "kind", "region", "endpoint", "expires", "seconds_left", "retry_after"} for one profile;
    kind "error" and the reason in "error" when it does not resolve. "retry_after" is the epoch second before
    which stsenv will not ask STS again, after a refresh that failed (else null)."""
    row = {"profile": name, "kind": "", "region": config.value(config.profiles[name], "region") or "", "endpoint": None, "expires": None, "seconds_left": None, "retry_after": None}
    try:
        source = resolve(config, name)
    except StsenvError as error:
        row["kind"] = without_credentials(config, name) or "error"
        if row["kind"] == "error":
            row["error"] = error.message
        return row
    row["kind"] = profile_kind(config, name, source)
    row["endpoint"] = source.params.get("endpoint") or source.private.get("sts", {}).get("endpoint")
    cached = broker.cache.read(source) if source.cacheable else None
    if cached is not None and cached.remaining() > 0:
        row["expires"] = cached.expiry_iso
        row["seconds_left"] = int(cached.remaining())
        if cached.retry_after is not None and cached.retry_after > time.time():
            row["retry_after"] = cached.retry_after
    return row


def profile_kind(config, name, source):
    kind = source.kind.label
    if served_profile(config.profiles[name].get("credential_process")) is not None:
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
        if row["retry_after"] is not None:
            state += f"; refresh failed, next try in {int(row['retry_after'] - time.time())}s"
        kind = f"error: {row['error']}" if row["kind"] == "error" else row["kind"]
        table.append((row["profile"], kind, row["region"] or "-", state))
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        sys.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3] + "\n")
    return 0
