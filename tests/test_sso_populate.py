"""`stsenv sso populate` (stsenv.sso.populate): every account and role of a session across pages, names from a
template, the user's file kept line for line and their profiles never changed, and nothing the portal
sends reaching the config file (or the terminal) but a sanitised name or a checked id. The module in this
process, and the command as a process."""

import pytest
from test_sso_token import ACCOUNT, SsoWorld

from stsenv import inifile
from stsenv.config import AwsConfig, check_profile_name
from stsenv.errors import ConfigError
from stsenv.sso import populate as sso_populate
from stsenv.sso import settings as sso_settings
from stsenv.sso.errors import LoginNeeded

ACCOUNTS = [f"1000000000{n:02d}" for n in range(1, 26)]  # and SsoWorld's 123456789012: 26, two pages of ListAccounts (20 a page)
PROFILES = 32  # a Developer in each, an Admin in every fifth of ACCOUNTS, and SsoWorld's Developer and Admin


@pytest.fixture
def world(home, sso):
    world = SsoWorld(home, sso)
    for n, account in enumerate(ACCOUNTS, 1):
        sso.assign(account, "Developer", account_name=f"Account {n:02d}")
        if n % 5 == 0:
            sso.assign(account, "Admin")
    world.write_token()
    return world


def populate(world, **options):
    return sso_populate.populate(AwsConfig(world.env), "corp", **options)


def sections(home):
    return inifile.parse(home.config.read_text(), "config")


def test_dry_run_lists_every_account_and_role_across_pages_and_writes_nothing(world, sso, home):
    before = home.config.read_bytes()
    result = populate(world, dry_run=True)
    assert len(result.added) == PROFILES and result.added[0] == "Account-01.Developer" and "Account-05.Admin" in result.added
    assert home.config.read_bytes() == before
    assert result.preview.startswith(
        "[profile Account-01.Developer]\nsso_session = corp\nsso_account_id = 100000000001\nsso_role_name = Developer\n\n"
    )
    assert result.added[-1] == "Development.Developer"
    assert sso.calls("ListAccounts") == 2 and sso.calls("ListAccountRoles") == 26


def test_profiles_are_added_after_the_user_s_text_and_botocore_serves_them(world, sso, home):
    before = home.config.read_text()
    result = populate(world, region="us-east-1")
    after = home.config.read_text()
    assert after.startswith(before) and len(result.added) == PROFILES
    added = sections(home)["profile Account-07.Developer"]
    assert added == {"sso_session": "corp", "sso_account_id": "100000000007", "sso_role_name": "Developer", "region": "us-east-1"}
    found = sso_settings.profile_settings(AwsConfig(world.env), "Account-07.Developer")
    assert (found.account_id, found.role_name, found.session) == ("100000000007", "Developer", "corp")
    assert world.aws_identity("Account-07.Developer") == sso.assumed_role_arn("100000000007", "Developer")


def test_a_profile_the_user_wrote_is_never_changed(world, sso, home):
    home.write_config(home.config.read_text() + "\n[profile Account-01.Developer]\nregion = eu-west-1\n")
    home.write_credentials("[Account-02.Developer]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\naws_secret_access_key = x\n")
    result = populate(world)
    skipped = {entry.name: entry.reason for entry in result.skipped}
    assert skipped == {name: "a profile of that name exists; it is left as it is" for name in ("Account-01.Developer", "Account-02.Developer")}
    assert sections(home)["profile Account-01.Developer"] == {"region": "eu-west-1"} and "profile Account-02.Developer" not in sections(home)
    text = home.config.read_text()
    again = populate(world)
    assert again.added == [] and len(again.unchanged) == PROFILES - 2 and home.config.read_text() == text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{account_id}-{role_name}", "100000000001-Developer"),
        ("{session}/{account_name}.{role_name}", "corp/Account-01.Developer"),
        ("{email}", "aws+100000000001@example.com"),
    ],
)
def test_templates(world, template, expected):
    assert populate(world, template=template, dry_run=True).added[0] == expected


def test_a_template_that_names_one_profile_for_many_skips_the_rest(world):
    result = populate(world, template="sso-{role_name}", dry_run=True)
    assert result.added == ["sso-Developer", "sso-Admin"]
    assert len(result.skipped) == PROFILES - 2 and "use a template with {account_id}" in result.skipped[0].reason


@pytest.mark.parametrize("template", ["{account}", "{account_name!r}", "{account_name.__class__}", "{role_name:>40}", "{", "{}", "no fields"])
def test_a_bad_template_is_refused_before_any_call(world, sso, template):
    with pytest.raises(ConfigError) as caught:
        populate(world, template=template)
    assert "\n" not in str(caught.value) and "{account_name}" in str(caught.value)
    assert sso.calls() == 0


def test_served_profiles_run_stsenv_serve_with_stsenv_keys(world, home):
    populate(world, served=True, region="eu-west-1")
    assert sections(home)["profile Account-03.Developer"] == {
        "sso_session": "corp",
        "stsenv_sso_account_id": "100000000003",
        "stsenv_sso_role_name": "Developer",
        "credential_process": "stsenv serve Account-03.Developer",
        "region": "eu-west-1",
    }


HOSTILE_NAMES = [
    "Prod\n[profile evil]\nrole_arn = arn:aws:iam::111111111111:role/x",
    "$(touch /tmp/stsenv-pwned)",
    "`id`; rm -rf ~",
    "it's \"quoted\"",
    "\x1b]0;title\x07\x1b[2J",
    "default",
    "adhoc:x",
    "\u202e\u2028",
    "x" * 500,
]


@pytest.mark.parametrize("served", [False, True])
def test_hostile_portal_values_are_sanitised_or_refused(home, sso, served):
    world = SsoWorld(home, sso)
    sso.unassign(ACCOUNT, "Admin")  # one role an account: the template names accounts
    for n, name in enumerate(HOSTILE_NAMES, 1):
        sso.assign(f"2000000000{n:02d}", "Developer", account_name=name)
    sso.assign("12345", "Developer", account_name="short id")
    sso.assign("300000000001", "Dev\nOps", account_name="Ops")
    sso.assign("300000000001", "Dev$(id)", account_name="Ops")
    world.write_token()
    before = home.config.read_text()
    result = populate(world, template="{account_name}", served=served)
    text = home.config.read_text()
    assert text.startswith(before)
    added_text = text[len(before) :]
    parsed = inifile.parse(text, "config")
    assert "profile evil" not in parsed and not any("role_arn" in values for values in parsed.values())
    for line in added_text.splitlines():
        assert line.isprintable() and (not line.startswith("[") or line.startswith("[profile ")), line
    for name in result.added:
        assert check_profile_name(name) and parsed[f"profile {name}"]["sso_role_name" if not served else "stsenv_sso_role_name"] == "Developer"
        if served:
            assert parsed[f"profile {name}"]["credential_process"] == f"stsenv serve {name}"
    assert "Prod-profile-evil-role_arn-=-arn:aws:iam::111111111111:role/x" in result.added and "touch-/tmp/stsenv-pwned" in result.added
    reasons = " | ".join(f"{entry.account_id} {entry.reason}" for entry in result.skipped)
    assert "12345 the portal sent an account id that is not 12 digits" in reasons
    assert reasons.count("300000000001 the portal sent a role name that is not a permission set's") == 2
    assert "'default' is a name stsenv keeps for itself" in reasons and "'adhoc:x' is a name stsenv keeps for itself" in reasons
    assert "makes an empty profile name" in reasons
    assert len(result.added) == len(HOSTILE_NAMES) - 3 + 1  # default, adhoc:x and the one with no allowed character refused; Development added


def test_a_bad_region_is_refused(world, sso):
    with pytest.raises(ConfigError):
        populate(world, region="eu-west-1\n[profile x]")
    assert sso.calls() == 0


def test_without_a_token_populate_is_a_login(home, sso):
    world = SsoWorld(home, sso)
    with pytest.raises(LoginNeeded) as caught:
        populate(world)
    assert caught.value.exit_code == 3 and "`aws sso login --sso-session corp`" in str(caught.value) and sso.calls() == 0


def test_a_file_with_windows_line_endings_keeps_them(world, home):
    text = home.config.read_text().replace("\n", "\r\n")
    home.config.write_bytes(text.encode())
    populate(world)
    after = home.config.read_bytes().decode()
    assert after.startswith(text) and after.count("\n") == after.count("\r\n") > text.count("\n")


# ---- the command -------------------------------------------------------------------------------------------------


def test_the_command_dry_run_prints_the_profiles_and_writes_nothing(world, home):
    before = home.config.read_bytes()
    result = world.stsenv("sso", "populate", "corp", "--dry-run", "--region", "eu-west-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "[profile Account-01.Developer]\nsso_session = corp\nsso_account_id = 100000000001\nsso_role_name = Developer\nregion = eu-west-1\n\n"
    )
    assert result.stdout.count("[profile ") == PROFILES and home.config.read_bytes() == before
    lines = result.stderr.splitlines()
    assert lines[0] == "stsenv: would add [profile Account-01.Developer]" and lines[-1] == f"stsenv: would add {PROFILES} profiles"


def test_the_command_adds_served_profiles_that_the_aws_cli_runs_and_never_overwrites(world, sso, home):
    home.write_config(home.config.read_text() + "\n[profile Account-01.Developer]\nregion = eu-west-1\n")
    result = world.stsenv("sso", "populate", "corp", "--served", "--template", "{account_id}.{role_name}", "--region", "us-east-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr.splitlines()[-1] == f"stsenv: added {PROFILES} profiles to {home.config}"
    assert sections(home)["profile 100000000007.Developer"]["credential_process"] == "stsenv serve 100000000007.Developer"
    assert world.aws_identity("100000000007.Developer") == sso.assumed_role_arn("100000000007", "Developer")  # through stsenv serve
    text = home.config.read_text()
    again = world.stsenv("sso", "populate", "corp", "--served", "--template", "{account_id}.{role_name}", "--region", "eu-west-1")
    assert again.returncode == 0 and home.config.read_text() == text  # same names, other settings: left as they are
    assert again.stderr.count("a profile of that name exists; it is left as it is") == PROFILES
    assert sections(home)["profile Account-01.Developer"] == {"region": "eu-west-1"}


def test_the_command_says_nothing_raw_of_hostile_portal_names(home, sso):
    world = SsoWorld(home, sso)
    for n, name in enumerate(HOSTILE_NAMES, 1):
        sso.assign(f"2000000000{n:02d}", "Developer", account_name=name)
    sso.assign("300000000001", "Dev\x1b[2J\nOps", account_name="Ops")
    world.write_token()
    result = world.stsenv("sso", "populate", "corp", "--template", "{account_name}")
    assert result.returncode == 0, result.stderr
    for line in result.stderr.splitlines():
        assert line.startswith("stsenv: ") and line.isprintable(), line
    assert "skipped 300000000001 Dev\\x1b[2J\\nOps: the portal sent a role name that is not a permission set's" in result.stderr
    assert "skipped default: 'default' is a name stsenv keeps for itself" in result.stderr


def test_the_command_without_a_token_is_exit_3_and_with_a_bad_template_exit_2(home, sso):
    world = SsoWorld(home, sso)
    result = world.stsenv("sso", "populate", "corp")
    assert result.returncode == 3 and "`aws sso login --sso-session corp`" in result.stderr and result.stderr.count("\n") == 1
    world.write_token()
    bad = world.stsenv("sso", "populate", "corp", "--template", "{account_name!r}")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and sso.calls() == 0
    missing = world.stsenv("sso", "populate", "nope")
    assert missing.returncode == 2 and "no [sso-session nope] section" in missing.stderr
