"""`stsenv ls`: every profile, its kind and region, what the cache holds for it, and for IAM Identity Center
profiles the state of their session's sign-in. No STS calls."""

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
    """{"profile", "kind", "region", "endpoint", "expires", "seconds_left", "retry_after", "sso_sign_in"} for one
    profile; kind "error" and the reason in "error" when it does not resolve. "retry_after" is the epoch second
    before which stsenv will not ask STS again, after a refresh that failed (else null). "sso_sign_in" is null
    unless an IAM Identity Center session is in the profile's chain (sso_sign_in)."""
    row = {
        "profile": name, "kind": "", "region": config.value(config.profiles[name], "region") or "", "endpoint": None,
        "expires": None, "seconds_left": None, "retry_after": None, "sso_sign_in": None,
    }
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
    sso = next((node for node in source.chain() if node.kind is kinds.SSO), None)
    if sso is not None:
        row["sso_sign_in"] = sso_sign_in(sso, broker.options.environ)
    return row


def sso_sign_in(node, environ):
    """{"session", "state", "expires", "seconds_left"} of the token of SSO Source `node`'s session, read where the
    aws CLI keeps it: state "signed in" (until "expires"), "renewable" (expired, renewed on next use with its
    refresh token), "signed out" (no token, or expired for good) or "unusable" (a file stsenv cannot read)."""
    from stsenv.credentials import iso_utc
    from stsenv.sso import token_cache
    from stsenv.sso.settings import from_source

    settings = from_source(node)
    row = {"session": settings.described, "state": "signed out", "expires": None, "seconds_left": None}
    try:
        token = token_cache.read_token(token_cache.token_path(settings, environ))
    except token_cache.TokenFileProblem:
        row["state"] = "unusable"
        return row
    if token is not None:
        row["expires"] = iso_utc(token.expires)
        if token.remaining() > 0:
            row["state"], row["seconds_left"] = "signed in", int(token.remaining())
        elif token.unrenewable_reason() is None:
            row["state"] = "renewable"
    return row


def sso_state(row):
    """The table's words for the IAM Identity Center sign-in of a profile that has one."""
    sign_in = row["sso_sign_in"]
    state = sign_in["state"]
    if state == "signed in":
        until = time.strftime("%H:%M", time.localtime(time.time() + sign_in["seconds_left"]))
        return f"IAM Identity Center signed in until {until}"
    if state == "renewable":
        return "IAM Identity Center sign-in expired, renewed on next use"
    return f"IAM Identity Center {'token unusable' if state == 'unusable' else 'signed out'}: stsenv login {row['profile']}"


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
        if row["sso_sign_in"] is not None:
            state += f"; {sso_state(row)}"
        kind = f"error: {row['error']}" if row["kind"] == "error" else row["kind"]
        table.append((row["profile"], kind, row["region"] or "-", state))
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        sys.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3] + "\n")
    return 0
