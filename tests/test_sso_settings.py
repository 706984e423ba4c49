"""SSO profiles' settings (stsenv.sso.settings): both botocore shapes, stsenv_ keys, the endpoints botocore
would use, one-line refusals of every bad value, and the Source parts whose params make the cache key."""

import subprocess
import sys

import botocore.session
import pytest

from stsenv import kinds
from stsenv.config import AwsConfig, check_profile_name
from stsenv.errors import ConfigError
from stsenv.resolution import resolve
from stsenv.source import Source
from stsenv.sso import settings as sso_settings

START = "https://d-1234567890.awsapps.com/start"
SESSION = f"[sso-session corp]\nsso_start_url = {START}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access, ,codecatalyst:read_write\n"


def settings_of(home, config_text, profile="dev", env=None):
    home.write_config(config_text)
    config = AwsConfig({**home.env, **(env or {})})
    return sso_settings.profile_settings(config, profile)


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


def test_the_config_keeps_its_sso_sessions(tmp_path):
    text = "[profile a]\nx = 1\n[sso-session corp]\nsso_region = eu-west-1\n[sso-session]\n[services s]\n"
    config = AwsConfig({"AWS_CONFIG_FILE": str(tmp_path / "none")}, config_text=text)
    assert config.sso_sessions == {"corp": {"sso_region": "eu-west-1"}} and config.stray_sections == ["sso-session"]
    assert list(config.profiles) == ["a"] and list(config.services) == ["s"]


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
        ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\nservices = gone\n\n" + SESSION, "no [services gone] section"),
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
    assert (found.portal, found.oidc) == requested_endpoints(home, monkeypatch, env, "eu-west-1")


VARIANTS = [
    ({"use_fips_endpoint": "true"}, {}),
    ({"use_dualstack_endpoint": "true"}, {}),
    ({"use_fips_endpoint": "true", "use_dualstack_endpoint": "true"}, {}),
    ({}, {"AWS_USE_FIPS_ENDPOINT": "true"}),
    ({"use_fips_endpoint": "false"}, {"AWS_USE_DUALSTACK_ENDPOINT": "true"}),
]


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "us-east-1"])
@pytest.mark.parametrize(("extra", "env"), VARIANTS)
def test_fips_and_dual_stack_endpoints_are_the_ones_botocore_uses(home, monkeypatch, region, extra, env):
    """GovCloud's plain endpoint is FIPS already: botocore's rule sets keep it without dual-stack."""
    profile = f"[profile dev]\nsso_start_url = {START}\nsso_region = {region}\nsso_account_id = 123456789012\nsso_role_name = D\n"
    found = settings_of(home, profile + "".join(f"{k} = {v}\n" for k, v in extra.items()), env=env)
    assert (found.portal, found.oidc) == requested_endpoints(home, monkeypatch, env, region)
    assert "fips" in found.portal or "api.aws" in found.portal or region.startswith("us-gov-")


def requested_endpoints(home, monkeypatch, env, region):
    """Where botocore's sso and sso-oidc clients for profile `dev` of home's config, with `env` as the only AWS_
    variables, send their first request (its rule sets, evaluated per request: a client's meta.endpoint_url is
    the older endpoints.json answer, which has no GovCloud FIPS rule)."""
    for name in [name for name in list(__import__("os").environ) if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = botocore.session.Session(session_vars={"profile": (None, None, "dev", None)})
    session.set_config_variable("config_file", str(home.config))
    seen = []

    def capture(request, **_):
        seen.append(request.url.split("/", 3)[2])
        raise KeyboardInterrupt  # stop before anything is sent

    calls = (
        ("sso", "get_role_credentials", {"roleName": "D", "accountId": "123456789012", "accessToken": "t"}),
        ("sso-oidc", "create_token", {"clientId": "c", "clientSecret": "s", "grantType": "refresh_token", "refreshToken": "r"}),
    )
    for service, operation, params in calls:
        client = session.create_client(service, region_name=region)
        client.meta.events.register("before-send", capture)
        with pytest.raises(KeyboardInterrupt):
            getattr(client, operation)(**params)
    return tuple(f"https://{host}" for host in seen)


# ---- the Source of an SSO profile ------------------------------------------------------------------------


def source_of(found):
    params, private = sso_settings.source_parts(found)
    return Source(kinds.SSO, found.profile, params, private=private)


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


def test_resolving_an_sso_profile_imports_nothing_heavy(home):
    """Resolution runs on the warm path: an SSO profile adds the settings module to what it loads, nothing else."""
    home.write_config("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = D\n\n" + SESSION)
    script = (
        "import sys\nfrom stsenv.config import AwsConfig\nfrom stsenv.resolution import resolve\nbefore = set(sys.modules)\n"
        "source = resolve(AwsConfig(), 'dev')\nprint(source.kind.name, sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=home.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sso ['stsenv.sso', 'stsenv.sso.settings']"


# ---- the kind in the table: resolution, as botocore's chain orders it (in this process, no server) ------------

DEV = "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
ROLE_ARN = "arn:aws:iam::123456789012:role/Deploy"
KEYS = "aws_access_key_id = AKIABASE000000000001\naws_secret_access_key = basesecret\n"


def config_of(tmp_path, text, **environ):
    (tmp_path / "config").write_text(text + "\n" + SESSION)
    return AwsConfig({"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), **environ})


def test_an_sso_profile_resolves_to_the_sso_kind_with_a_pinned_key(tmp_path):
    source = resolve(config_of(tmp_path, DEV), "dev")
    assert (source.kind, source.parent, source.private) == (kinds.SSO, None, {"oidc": "https://oidc.eu-west-1.amazonaws.com", "scopes": ("sso:account:access", "codecatalyst:read_write")})
    assert source.cache_key() == (
        "sso(account_id='123456789012',portal='https://portal.sso.eu-west-1.amazonaws.com',role_name='Developer',"
        f"sso_region='eu-west-1',sso_session='corp',start_url='{START}')<-[]"
    )


def test_the_served_shape_is_sso_before_its_credential_process_and_a_session_alone_is_not(tmp_path):
    """botocore's SSO provider acts on sso_account_id or sso_role_name; with sso_session alone it runs the process."""
    text = "[profile dev]\ncredential_process = stsenv serve dev\nsso_session = corp\nstsenv_sso_account_id = 123456789012\nstsenv_sso_role_name = Developer\n"
    assert resolve(config_of(tmp_path, text), "dev").kind is kinds.SSO
    config = config_of(tmp_path, "[profile dev]\nsso_session = corp\ncredential_process = stsenv serve dev\n")
    with pytest.raises(ConfigError, match="runs `stsenv serve dev` but names no role or keys"):
        resolve(config, "dev")


def test_sso_comes_before_keys_in_a_profile_and_in_a_source_profile_as_in_botocore(tmp_path):
    config = config_of(tmp_path, DEV + KEYS + f"\n[profile deploy]\nrole_arn = {ROLE_ARN}\nsource_profile = dev\n")
    assert resolve(config, "dev").kind is kinds.SSO
    assert [node.kind for node in resolve(config, "deploy").chain()] == [kinds.ASSUME_ROLE, kinds.SSO]


def test_a_role_and_sso_settings_in_one_profile_are_refused(tmp_path):
    with pytest.raises(ConfigError) as refused:
        resolve(config_of(tmp_path, DEV + f"role_arn = {ROLE_ARN}\nsource_profile = dev\n"), "dev")
    assert str(refused.value) == "profile 'dev' has settings of more than one kind (role, SSO) (keep one kind per profile)"


def test_a_role_on_sso_is_role_chaining_and_carries_its_own_mfa_code(tmp_path):
    config = config_of(
        tmp_path,
        DEV + f"\n[profile deploy]\nrole_arn = {ROLE_ARN}\nsource_profile = dev\nmfa_serial = arn:aws:iam::123456789012:mfa/ann\n"
        f"\n[profile long]\nrole_arn = {ROLE_ARN}\nsource_profile = dev\nduration_seconds = 3601\n",
    )
    deploy = resolve(config, "deploy")
    assert deploy.params["mfa_serial"] == "arn:aws:iam::123456789012:mfa/ann" and deploy.parent.kind is kinds.SSO
    with pytest.raises(ConfigError, match="its source 'dev' is itself a role, and AWS limits role chaining to 3600 seconds"):
        resolve(config, "long")
