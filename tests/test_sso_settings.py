"""SSO profiles' settings (stsenv.sso.settings): both botocore shapes, stsenv_ keys, the endpoints botocore
would use, one-line refusals of every bad value, and the Source parts whose params make the cache key."""

import subprocess
import sys

import botocore.session
import pytest

from stsenv import inifile
from stsenv.config import AwsConfig, check_profile_name
from stsenv.errors import ConfigError
from stsenv.source import Source
from stsenv.sso import settings as sso_settings

START = "https://d-1234567890.awsapps.com/start"
SESSION = f"[sso-session corp]\nsso_start_url = {START}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access, ,codecatalyst:read_write\n"


def settings_of(home, config_text, profile="dev", env=None):
    home.write_config(config_text)
    config = AwsConfig({**home.env, **(env or {})})
    return sso_settings.profile_settings(config, profile, sso_settings.read_sessions(config.config_path))


def refusal(home, config_text, profile="dev", env=None):
    with pytest.raises(ConfigError) as caught:
        settings_of(home, config_text, profile, env)
    text = str(caught.value)
    assert "\n" not in text and "\x1b" not in text
    return text


def test_the_sso_session_shape(home):
    found = settings_of(home, "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n\n" + SESSION)
    assert (found.session, found.start_url, found.region, found.account_id, found.role_name) == ("corp", START, "eu-west-1", "123456789012", "Developer")
    assert found.scopes == ("sso:account:access", "codecatalyst:read_write")  # the aws CLI's parse: comma-split, blanks dropped
    assert (found.portal, found.oidc) == ("https://portal.sso.eu-west-1.amazonaws.com", "https://oidc.eu-west-1.amazonaws.com")
    assert found.token_name == "corp" and found.described == "sso-session corp"


def test_the_legacy_shape_and_a_partition_s_dns_suffix(home):
    found = settings_of(
        home, f"[profile old]\nsso_start_url = {START}\nsso_region = cn-north-1\nsso_account_id = 123456789012\nsso_role_name = Dev\n", "old"
    )
    assert found.session is None and found.scopes is None and found.token_name == START
    assert found.portal == "https://portal.sso.cn-north-1.amazonaws.com.cn" and found.partition == "aws-cn"


def test_stsenv_prefixed_keys_win_in_profiles_and_sessions(home):
    found = settings_of(
        home,
        "[profile dev]\ncredential_process = stsenv serve dev\nsso_session = corp\nstsenv_sso_account_id = 123456789012\n"
        "sso_role_name = Ignored\nstsenv_sso_role_name = Developer\n\n" + SESSION + "stsenv_sso_region = us-east-2\n",
        env={},
    )
    assert (found.account_id, found.role_name, found.region) == ("123456789012", "Developer", "us-east-2")
    assert sso_settings.is_sso_profile(AwsConfig(home.env), AwsConfig(home.env).profiles["dev"])


def test_sessions_are_read_from_parsed_sections():
    sections = inifile.parse("[profile a]\nx = 1\n[sso-session corp]\nsso_region = eu-west-1\n[sso-session]\n[services s]\n", "config")
    assert sso_settings.sessions_in(sections) == {"corp": {"sso_region": "eu-west-1"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[profile dev]\nsso_session = nope\nsso_account_id = 123456789012\nsso_role_name = D\n", "no [sso-session nope] section"),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n[sso-session corp]\nsso_region = eu-west-1\n", "missing sso_start_url"),
        ("[profile dev]\nsso_session = corp\nsso_role_name = D\n\n" + SESSION, "missing sso_account_id"),
        (f"[profile dev]\nsso_start_url = {START}\nsso_account_id = 123456789012\nsso_role_name = D\n", "missing sso_region"),
        (
            "[profile dev]\nsso_session = corp\nsso_start_url = https://other.awsapps.com/start\nsso_account_id = 123456789012\nsso_role_name = D\n\n" + SESSION,
            "its sso-session corp says",
        ),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 12345678901\nsso_role_name = D\n\n" + SESSION, "not a 12-digit account id"),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 1234567890１2\nsso_role_name = D\n\n" + SESSION, "not a 12-digit account id"),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev Ops\n\n" + SESSION, "not a permission set name"),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = " + "R" * 33 + "\n\n" + SESSION, "not a permission set name"),
        (
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n\n"
            "[sso-session corp]\nsso_start_url = http://d-1.awsapps.com/start\nsso_region = eu-west-1\n",
            "not a start URL",
        ),
        (
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n\n"
            "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\n  [profile evil]\nsso_region = eu-west-1\n",
            "not a start URL",
        ),
        (
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n\n"
            f"[sso-session corp]\nsso_start_url = {START}\nsso_region = eu-west-1;$(id)\n",
            "not a region name",
        ),
        (
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n\n"
            f"[sso-session corp]\nsso_start_url = {START}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access `id`\n",
            "is not a scope",
        ),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\nservices = gone\n\n" + SESSION, "no [services 'gone'] section"),
        ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\nendpoint_url = ftp://x\n\n" + SESSION, "not an http(s) URL"),
    ],
)
def test_every_bad_value_is_one_line_naming_it(home, text, expected):
    assert expected in refusal(home, text)


def test_a_hostile_value_is_escaped_in_the_refusal(home):
    text = refusal(home, "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = \x1b]0;owned\x07\n\n" + SESSION)
    assert "\\x1b" in text and "\x07" not in text


# ---- endpoints, as botocore resolves them -----------------------------------------------------------------

ENDPOINT_CASES = [
    ({}, {}),
    ({"endpoint_url": "https://profile.example.test"}, {}),
    ({"services": "local"}, {}),
    ({"services": "local", "endpoint_url": "https://profile.example.test"}, {"AWS_ENDPOINT_URL": "https://global.example.test"}),
    ({"services": "local"}, {"AWS_ENDPOINT_URL_SSO": "https://portal-env.example.test", "AWS_ENDPOINT_URL_SSO_OIDC": "https://oidc-env.example.test"}),
    ({"services": "local"}, {"AWS_ENDPOINT_URL_SSO": "https://portal-env.example.test", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}),
    ({"endpoint_url": "https://profile.example.test", "ignore_configured_endpoint_urls": "true"}, {}),
]
SERVICES = "[services local]\nsso =\n  endpoint_url = https://portal-services.example.test\nsso_oidc =\n  endpoint_url = https://oidc-services.example.test\n"


@pytest.mark.parametrize(("extra", "env"), ENDPOINT_CASES)
def test_endpoints_are_the_ones_botocore_uses(home, monkeypatch, extra, env, tmp_path):
    profile = "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n" + "".join(f"{k} = {v}\n" for k, v in extra.items())
    text = profile + "\n" + SESSION + "\n" + SERVICES
    found = settings_of(home, text, env=env)
    for name in [name for name in list(__import__("os").environ) if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = botocore.session.Session(session_vars={"profile": (None, None, "dev", None)})
    session.set_config_variable("config_file", str(home.config))
    expected = tuple(session.create_client(service, region_name="eu-west-1").meta.endpoint_url for service in ("sso", "sso-oidc"))
    assert (found.portal, found.oidc) == expected


# ---- the Source of an SSO profile ------------------------------------------------------------------------


def source_of(found):
    params, private = sso_settings.source_parts(found)
    return Source("sso", found.profile, params, private=private)


def test_source_parts_round_trip_and_the_cache_key_holds_what_decides_the_credentials(home):
    base = "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
    found = settings_of(home, base + "\n" + SESSION)
    back = sso_settings.from_source(source_of(found))
    assert [getattr(back, name) for name in sso_settings.SsoSettings.__slots__] == [getattr(found, name) for name in sso_settings.SsoSettings.__slots__]
    key = source_of(found).cache_key()
    changed = [
        base.replace("Developer", "Admin") + "\n" + SESSION,
        base.replace("123456789012", "210987654321") + "\n" + SESSION,
        base + "\n" + SESSION.replace("d-1234567890", "d-0987654321"),
        base.replace("corp", "other") + "\n" + SESSION.replace("corp", "other"),
        base + "\n" + SESSION,
    ]
    keys = [source_of(settings_of(home, text, env={"AWS_ENDPOINT_URL_SSO": "https://p.example.test"} if i == 4 else None)).cache_key() for i, text in enumerate(changed)]
    assert len({key, *keys}) == 6
    same = source_of(settings_of(home, base + "\n" + SESSION, env={"AWS_ENDPOINT_URL_SSO_OIDC": "https://o.example.test"})).cache_key()
    assert same == key  # the OIDC endpoint and the scopes renew the token; they change no credential
    assert "secret" not in key.lower() and check_profile_name(found.profile)


def test_reading_a_profile_s_settings_imports_nothing_heavy(home):
    """Resolution runs on the warm path: settings may load only itself."""
    home.write_config("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n\n" + SESSION)
    script = (
        "import sys\nfrom stsenv.config import AwsConfig\nbefore = set(sys.modules)\nfrom stsenv.sso import settings\n"
        "config = AwsConfig()\nsettings.profile_settings(config, 'dev', settings.sessions_in({'sso-session corp': dict(\n"
        f"  sso_start_url={START!r}, sso_region='eu-west-1')}}))\nprint(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=home.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['stsenv.sso', 'stsenv.sso.settings']"
