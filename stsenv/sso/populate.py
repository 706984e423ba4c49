"""One profile per account and role a session may sign in to (ListAccounts, ListAccountRoles), named from a
template and added to ~/.aws/config with the line-preserving editor (stsenv.configedit). A profile that is
there already, in the config or the credentials file, is never changed: it is reported instead.

Template fields (plain `{name}` only: no attribute, index, conversion or format spec):
    {account_name}  the account's name in the portal     {account_id}  its 12-digit id
    {role_name}     the permission set's name             {email}       the account's email address
    {session}       the sso-session's name
The default is `{account_name}.{role_name}`. The text made from it is sanitised into a profile name: each run
of characters a profile name may not hold (config.PROFILE_NAME_CHARS) becomes one `-`, a `-` at either end is
dropped, and it is cut at 128 characters. A name that is empty, `default`, reserved for stsenv (`adhoc:...`) or
already made for an earlier account or role of the listing is skipped and reported, as is an account id that
is not 12 digits or a role name that is not a permission set's. Nothing from the portal but a sanitised name,
a checked account id and a checked role name ever reaches the file.

The profiles written, plain (served by the aws CLI itself, and by `stsenv use`):
    [profile Development.Developer]
    sso_session = corp
    sso_account_id = 123456789012
    sso_role_name = Developer
or, with served=True, served by stsenv to every SDK from its shared cache:
    [profile Development.Developer]
    sso_session = corp
    stsenv_sso_account_id = 123456789012
    stsenv_sso_role_name = Developer
    credential_process = stsenv serve Development.Developer
both with `region = REGION` when a region is given.
"""

from stsenv import configedit, inifile
from stsenv.config import ADHOC_PREFIX, PROFILE_NAME_CHARS, PROFILE_NAME_MAX, check_profile_name
from stsenv.errors import AwsError, ConfigError
from stsenv.sso import settings as sso_settings

DEFAULT_TEMPLATE = "{account_name}.{role_name}"
FIELDS = ("account_name", "account_id", "role_name", "email", "session")


class Planned:
    """A profile to add: its name and its settings, in the order they are written."""

    __slots__ = ("name", "settings")

    def __init__(self, name, settings):
        self.name = name
        self.settings = settings


class Skipped:
    """An account and role that gets no profile, and why (one line, for the person)."""

    __slots__ = ("name", "account_id", "role_name", "reason")

    def __init__(self, name, account_id, role_name, reason):
        self.name = name
        self.account_id = account_id
        self.role_name = role_name
        self.reason = reason


class Result:
    """What apply() did (or, with dry_run, would do): profiles `added`, `unchanged` (already there, the same),
    `skipped`; `preview` is the text of the added sections, `text` the whole new config file."""

    __slots__ = ("path", "added", "unchanged", "skipped", "preview", "text")

    def __init__(self, path, added, unchanged, skipped, preview, text):
        self.path = path
        self.added = added
        self.unchanged = unchanged
        self.skipped = skipped
        self.preview = preview
        self.text = text


def populate(config, session, template=DEFAULT_TEMPLATE, dry_run=False, served=False, region=None):
    """`stsenv sso populate SESSION`: plan() with the session's token (renewed if due), then apply()."""
    from stsenv.sso import renewal

    check_template(template)
    if region is not None:
        sso_settings.check_region(region, "region")
    settings = sso_settings.session_settings(config, session)
    token = renewal.access_token(settings, config.environ)
    planned, skipped = plan(settings, config.environ, token, template, served, region)
    return apply(config, planned, skipped, dry_run)


def plan(settings, environ, access_token, template=DEFAULT_TEMPLATE, served=False, region=None):
    """([Planned], [Skipped]) for every account and role of the portal, accounts by id, roles by name."""
    from stsenv.sso import portal

    check_template(template)
    if region is not None:
        sso_settings.check_region(region, "region")
    planned, skipped, taken = [], [], set()
    for account in sorted(portal.accounts(settings, environ, access_token), key=lambda item: str(item.get("accountId"))):
        account_id = account.get("accountId")
        if not _valid(sso_settings.check_account_id, account_id):
            skipped.append(Skipped(None, account_id, None, "the portal sent an account id that is not 12 digits"))
            continue
        try:
            roles = portal.account_roles(settings, environ, access_token, account_id)
        except AwsError as error:
            if error.code != "ForbiddenException":
                raise
            skipped.append(Skipped(None, account_id, None, f"the portal refused to list its roles ({error.message})"))
            continue
        for role_name in sorted((role.get("roleName") for role in roles), key=str):
            if not _valid(sso_settings.check_role_name, role_name):
                skipped.append(Skipped(None, account_id, _text(role_name), "the portal sent a role name that is not a permission set's"))
                continue
            fields = {
                "account_name": _text(account.get("accountName")),
                "account_id": account_id,
                "role_name": role_name,
                "email": _text(account.get("emailAddress")),
                "session": settings.session,
            }
            name = profile_name(template.format(**fields))
            reason = _name_refusal(name, taken)
            if reason:
                skipped.append(Skipped(name or None, account_id, role_name, reason))
                continue
            taken.add(name)
            planned.append(Planned(name, profile_settings(settings.session, account_id, role_name, name, served, region)))
    return planned, skipped


def _name_refusal(name, taken):
    if not name:
        return "the template makes an empty profile name of it"
    if name == "default" or name.startswith(ADHOC_PREFIX):
        return f"{name!r} is a name stsenv keeps for itself"
    if name in taken:
        return f"{name!r} is made for an earlier account or role too: use a template with {{account_id}}"
    return None


def profile_settings(session, account_id, role_name, name, served=False, region=None):
    """The settings of one populated profile, in the order they are written."""
    if served:
        result = {
            "sso_session": session,
            "stsenv_sso_account_id": account_id,
            "stsenv_sso_role_name": role_name,
            "credential_process": f"stsenv serve {name}",
        }
    else:
        result = {"sso_session": session, "sso_account_id": account_id, "sso_role_name": role_name}
    if region:
        result["region"] = region
    return result


def apply(config, planned, skipped=(), dry_run=False):
    """Add each Planned profile to `config`'s config file unless a profile of that name exists (in either file);
    with dry_run, only say what would be added. The new text is parsed back and compared before it is written."""
    path = config.config_path
    text = configedit.read(path)  # with its line endings, which the edit keeps
    before = inifile.parse(text, path)
    added, unchanged, skipped, blocks = [], [], list(skipped), []
    for profile in planned:
        check_profile_name(profile.name)
        existing = config.profiles.get(profile.name) or before.get(_section(profile.name))
        if existing is not None:
            if existing == profile.settings:
                unchanged.append(profile.name)
            else:
                skipped.append(Skipped(profile.name, None, None, "a profile of that name exists; it is left as it is"))
            continue
        text = configedit.update_profile(text, profile.name, profile.settings)
        added.append(profile.name)
        blocks.append("\n".join([configedit.section_header(profile.name)] + [f"{key} = {value}" for key, value in profile.settings.items()]))
    _check_written(text, path, before, planned, added)
    if added and not dry_run:
        configedit.write_atomically(path, text)
    return Result(path, added, unchanged, skipped, "\n\n".join(blocks) + ("\n" if blocks else ""), text)


def _check_written(text, path, before, planned, added):
    """The new text holds the sections it had, unchanged, and the added ones with exactly their settings."""
    after = inifile.parse(text, path)
    wanted = {_section(p.name): p.settings for p in planned if p.name in added}
    kept = {name: values for name, values in after.items() if name not in wanted}
    written = all(all(after.get(name, {}).get(key) == value for key, value in values.items()) for name, values in wanted.items())
    if kept != before or not written or len(after) != len(before) + len(wanted):
        raise ConfigError(f"populating {path} would change more than the profiles it adds; nothing was written", "report this as a bug")


def _section(profile):
    """The parsed section name of a profile's header (`profile NAME`, or `default`)."""
    return configedit.section_header(profile)[1:-1]


# ---- names -------------------------------------------------------------------------------------------------


def check_template(template):
    """ConfigError unless `template` is text with plain {field} names of FIELDS (at least one)."""
    from string import Formatter

    try:
        parts = list(Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(f"the profile name template {_shown(template)} is not valid: {error}", _fields_hint()) from None
    names = [name for _, name, spec, conversion in parts if name is not None]
    for _, name, spec, conversion in parts:
        if name is not None and (name not in FIELDS or spec or conversion):
            raise ConfigError(f"the profile name template {_shown(template)} uses {_shown(_field(name, spec, conversion))}: only plain fields are allowed", _fields_hint())
    if not names:
        raise ConfigError(f"the profile name template {_shown(template)} names no field: every profile would have one name", _fields_hint())


def profile_name(text):
    """`text` made a profile name: each run of other characters one `-`, none at either end, at most 128 characters."""
    pieces, gap = [], False
    for char in text:
        if char in PROFILE_NAME_CHARS:
            if gap and pieces:
                pieces.append("-")
            pieces.append(char)
            gap = False
        else:
            gap = True
    return "".join(pieces).strip("-")[:PROFILE_NAME_MAX].rstrip("-")


def _fields_hint():
    return "fields: " + ", ".join("{" + name + "}" for name in FIELDS) + f"; the default is {DEFAULT_TEMPLATE}"


def _field(name, spec, conversion):
    return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


def _shown(value):
    from stsenv.oneline import quoted

    return quoted(value, 100)


def _text(value):
    return value if isinstance(value, str) else ""


def _valid(check, value):
    if not isinstance(value, str):
        return False
    try:
        check(value, "")
    except ConfigError:
        return False
    return True
