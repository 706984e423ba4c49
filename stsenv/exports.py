"""What `use` prints: export blocks for bash, zsh and fish, dotenv, JSON.

Every value is quoted for its shell, and every name is checked, because the output is `eval`ed.
"""

from stsenv import jsonfast
from stsenv.endpoints import REGION_MARKER, REGION_VARIABLES, USER_REGION_PREFIX
from stsenv.errors import ConfigError

SHELLS = ("bash", "zsh", "fish")
FORMATS = ("shell", "json", "dotenv")

# The region variables, and what `use` keeps beside them to give the user's own values back (endpoints.user_regions).
REGION_NAMES = (*REGION_VARIABLES, REGION_MARKER, *(USER_REGION_PREFIX + name for name in REGION_VARIABLES))
# Every variable `use` may set; `use --clear` unsets all of them but the user's own region.
CONTRACT_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SESSION_EXPIRES",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "STSENV_PROFILE",
    "STSENV_IDENTITY",
    *REGION_NAMES,
)
# Unset by `use`: a profile variable beside environment credentials confuses SDKs.
CONFLICTING_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_START | frozenset("0123456789")


def environment(credentials, profile, region, previous_profile=None, user_regions=None):
    """(variables to set, variables to unset) for `use PROFILE`.

    `user_regions` (endpoints.user_regions) is given for a shell: then the region variables are the profile's
    region with the user's own values saved beside it, or, for a profile without a region, the user's own.
    """
    values = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
    }
    unset = list(CONFLICTING_VARIABLES)
    for name, value in (
        ("AWS_SESSION_TOKEN", credentials.session_token),
        ("AWS_SESSION_EXPIRES", None if credentials.expiry_epoch is None else str(credentials.expiry_epoch)),
        ("AWS_CREDENTIAL_EXPIRATION", credentials.expiry_iso),
        ("AWS_SESSION_EXPIRATION", credentials.expiry_iso),
    ):
        if value is None:
            unset.append(name)
        else:
            values[name] = value
    values["STSENV_PROFILE"] = profile
    values["STSENV_IDENTITY"] = credentials.identity or profile
    if user_regions is not None:
        regions, unset_regions = region_environment(region, user_regions)
        values.update(regions)
        unset += unset_regions
    elif region:
        values["AWS_REGION"] = values["AWS_DEFAULT_REGION"] = region
    if previous_profile and previous_profile != profile:
        values["STSENV_PREVIOUS_PROFILE"] = previous_profile
    return values, unset


def region_environment(region, user_regions):
    """(set, unset) for the region variables: the profile's `region`, marked as stsenv's and with the user's
    own values saved beside it (unset where the user had none); without a region, the user's own values back."""
    values, unset = {}, []
    for name in REGION_VARIABLES:
        own = user_regions.get(name)
        if region:
            values[name] = region
            target = USER_REGION_PREFIX + name  # the user's value, kept for the next switch or clear
        else:
            target = name  # the user's value, given back
            unset.append(USER_REGION_PREFIX + name)
        if own is None:
            unset.append(target)
        else:
            values[target] = own
    if region:
        values[REGION_MARKER] = region
    else:
        unset.append(REGION_MARKER)
    return values, unset


def clear_environment(profile=None, user_regions=None):
    """Unset every contract variable but the user's own region variables (`user_regions`, given back);
    remember the profile that was active, so `use -` brings it back."""
    values = {"STSENV_PREVIOUS_PROFILE": profile} if profile else {}
    values.update((name, value) for name, value in (user_regions or {}).items() if value is not None)
    return values, [name for name in CONTRACT_VARIABLES if name not in values]


def block(values, unset, shell, fmt="shell"):
    """The text `use` prints in format `fmt` for `shell`."""
    for name in list(values) + list(unset):
        _check_name(name)
    if fmt == "json":
        return jsonfast.dumps_flat(values) + "\n"
    if fmt == "dotenv":
        return "".join(f"{name}={dotenv_quote(name, value)}\n" for name, value in values.items())
    if shell == "fish":
        lines = [f"set -e {name};" for name in unset]
        lines += [f"set -gx {name} {fish_quote(value)};" for name, value in values.items()]
    else:
        lines = [f"unset {name};" for name in unset]
        lines += [f"export {name}={posix_quote(value)};" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def posix_quote(value):
    """Single quotes for bash and zsh; a `'` becomes `'\\''`."""
    _check_value(value)
    return "'" + value.replace("'", "'\\''") + "'"


def fish_quote(value):
    """Single quotes for fish, which interprets `\\\\` and `\\'` inside them: escape backslash first."""
    _check_value(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dotenv_quote(name, value):
    """`'value'`, which sh (`set -a; . ./file`), python-dotenv and docker compose all read back exactly, or
    ConfigError naming what in the value they would not (never the value: it may be a secret).

    Inside single quotes sh takes every character as it is but `'`; python-dotenv expands `${...}`, reads
    `\\\\` and `\\'` as one character, and reads `\\r` as a line break; docker compose reads `\\'` as a
    quote and keeps other backslashes. So a value may not hold `'`, `${`, two backslashes in a row, a
    backslash at its end, or a control character (a line break above all); a single backslash before
    any other character is read as it is by all three.
    """
    _check_value(value)
    problem = _dotenv_problem(value)
    if problem:
        raise ConfigError(
            f"refusing to write {name} in dotenv format: its value holds {problem}, which sh, python-dotenv and docker compose do not all read back as written",
            "use --format json, or the shell format",
        )
    return f"'{value}'"


def _dotenv_problem(value):
    """What in `value` a single-quoted dotenv value cannot hold (dotenv_quote), or None."""
    if "'" in value:
        return "a single quote"
    if "${" in value:
        return "${ (python-dotenv would expand it)"
    if "\\\\" in value:
        return "two backslashes in a row"
    if value.endswith("\\"):
        return "a backslash at its end"
    for char in value:
        if char < " " or "\x7f" <= char <= "\x9f":
            return f"a control character ({char!r})"
        if "\ud800" <= char <= "\udfff":
            return "a lone surrogate (no UTF-8 file can hold it)"
    return None


def _check_name(name):
    if not name or name[0] not in _NAME_START or not _NAME_REST.issuperset(name):
        raise ConfigError(f"refusing to print an invalid variable name {name!r}")


def _check_value(value):
    if "\0" in value:
        raise ConfigError("refusing to print a value with a NUL byte: no shell variable can hold it")
