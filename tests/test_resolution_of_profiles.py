"""Profiles turned into Source chains, in this process, from real config and credentials files: every kind,
what signs each call, where MFA sessions open, AWS's limits on chains, and the cache keys, which must never
change for an unchanged profile (entries on users' disks are found by them)."""

import pytest

from stsenv import kinds, resolution
from stsenv.config import AwsConfig, check_profile_name, served_profile
from stsenv.errors import ConfigError
from stsenv.resolution import MAX_CHAIN_PROFILES, resolve

KEYS = "[base]\naws_access_key_id = AKIABASE000000000001\naws_secret_access_key = basesecret\n"
ROLE = "arn:aws:iam::123456789012:role/Admin"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
EU_WEST_1 = {"endpoint": "https://sts.eu-west-1.amazonaws.com", "region": "eu-west-1"}


@pytest.fixture
def files(tmp_path):
    """config(text, credentials=KEYS, **environ): an AwsConfig over those two files and that environment."""

    def config(text, credentials=KEYS, **environ):
        (tmp_path / "config").write_text(text)
        (tmp_path / "credentials").write_text(credentials)
        return AwsConfig({"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), **environ})

    return config


def kinds_of(source):
    return [(node.kind, node.profile) for node in source.chain()]


def refusal(config, name):
    with pytest.raises(ConfigError) as refused:
        resolve(config, name)
    return str(refused.value)


# ---- every kind, from the files --------------------------------------------------------------------------------


def test_keys_are_static_credentials_and_the_secret_stays_out_of_the_key(files):
    source = resolve(files(""), "base")
    assert (source.kind, source.params, source.parent) == (kinds.STATIC, {"access_key_id": "AKIABASE000000000001"}, None)
    assert source.private == {"secret_access_key": "basesecret"}
    assert source.cache_key() == "static(access_key_id='AKIABASE000000000001')<-[]"
    assert "basesecret" not in repr(source)


def test_the_credentials_file_wins_over_the_config_file(files):
    config = files("[profile base]\naws_access_key_id = AKIACONFIG0000000001\naws_secret_access_key = configsecret\nregion = eu-west-1\n")
    assert resolve(config, "base").params["access_key_id"] == "AKIABASE000000000001"
    assert config.section("base")["region"] == "eu-west-1"


def test_default_is_read_with_or_without_the_profile_word(files):
    assert files("[default]\nregion = eu-west-1\n", "").section("default") == {"region": "eu-west-1"}
    assert files("[profile default]\nregion = eu-west-1\n", "").section("default") == {"region": "eu-west-1"}


def test_another_tools_credential_process_is_its_to_cache(files):
    source = resolve(files("[profile vault]\ncredential_process = aws-vault export --format=json prod\n"), "vault")
    assert (source.kind, source.params) == (kinds.PROCESS, {"command": "aws-vault export --format=json prod"})
    assert not source.cacheable


def test_a_role_is_signed_by_its_source_profiles_keys(files):
    config = files(f"[profile prod]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = ci\nregion = eu-west-1\nexternal_id = ext-1\n")
    source = resolve(config, "prod")
    assert kinds_of(source) == [(kinds.ASSUME_ROLE, "prod"), (kinds.STATIC, "base")]
    assert source.params == {"role_arn": ROLE, "session_name": "ci", "duration": 3600, "external_id": "ext-1", **EU_WEST_1}
    assert source.cache_key() == (
        "assume-role(duration=3600,endpoint='https://sts.eu-west-1.amazonaws.com',external_id='ext-1',region='eu-west-1',"
        "role_arn='arn:aws:iam::123456789012:role/Admin',session_name='ci')<-[static(access_key_id='AKIABASE000000000001')<-[]]"
    )


def test_a_role_without_a_session_name_gets_the_users_stable_one(files):
    source = resolve(files(f"[profile prod]\nrole_arn = {ROLE}\nsource_profile = base\n"), "prod")
    assert source.params["session_name"] == resolution.default_session_name()
    assert resolution.default_session_name().startswith("stsenv-")


def test_stsenvs_prefixed_settings_win_over_botocores(files):
    config = files(f"[profile prod]\nrole_arn = arn:aws:iam::123456789012:role/Theirs\nstsenv_role_arn = {ROLE}\nsource_profile = other\nstsenv_source_profile = base\n")
    source = resolve(config, "prod")
    assert source.params["role_arn"] == ROLE and source.parent.profile == "base"


def test_a_profile_served_by_stsenv_resolves_to_what_it_serves(files):
    config = files(
        f"[profile prod]\ncredential_process = stsenv serve prod\nstsenv_role_arn = {ROLE}\nstsenv_source_profile = base\n\n"
        f"[profile prod-role]\nrole_arn = {ROLE}\nsource_profile = base\n\n"
        "[profile prod-served]\ncredential_process = /opt/bin/stsenv serve prod-role\n"
    )
    assert kinds_of(resolve(config, "prod")) == [(kinds.ASSUME_ROLE, "prod"), (kinds.STATIC, "base")]
    assert kinds_of(resolve(config, "prod-served")) == [(kinds.ASSUME_ROLE, "prod-role"), (kinds.STATIC, "base")]


def test_a_served_profile_as_a_source_is_what_it_serves(files):
    config = files(
        f"[profile hub]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = s\n\n"
        "[profile hub-served]\ncredential_process = stsenv serve hub\n\n"
        f"[profile spoke]\nrole_arn = arn:aws:iam::123456789012:role/Spoke\nsource_profile = hub-served\nrole_session_name = s\n"
    )
    assert kinds_of(resolve(config, "spoke")) == [(kinds.ASSUME_ROLE, "spoke"), (kinds.ASSUME_ROLE, "hub"), (kinds.STATIC, "base")]


@pytest.mark.parametrize(
    "command, profile",
    [
        ("stsenv serve prod", "prod"),
        ("/home/a/.local/bin/stsenv serve prod", "prod"),
        ("python3 -m stsenv serve prod", "prod"),
        ("stsenv  serve   prod  ", "prod"),
        ("stsenv use prod", None),
        ("stsenv serve", None),
        ("stsenv-other serve prod", None),
        ("aws-vault export prod", None),
        ("", None),
        (None, None),
    ],
)
def test_which_credential_process_lines_stsenv_serves(command, profile):
    assert served_profile(command) == profile


def test_a_profile_serving_itself_without_a_role_is_explained(files):
    message = refusal(files("[profile prod]\ncredential_process = stsenv serve prod\n"), "prod")
    assert message.startswith("profile 'prod' runs `stsenv serve prod` but names no role or keys for stsenv (add stsenv_role_arn and stsenv_source_profile")


def test_web_identity_with_a_role_arn_is_web_identity_not_two_kinds(files, tmp_path):
    config = files(f"[profile ci]\nweb_identity_token_file = {tmp_path}/token\nrole_arn = {ROLE}\nrole_session_name = ci\n")
    source = resolve(config, "ci")
    assert (source.kind, source.parent) == (kinds.WEB_IDENTITY, None)
    assert source.params == {"role_arn": ROLE, "token_file": f"{tmp_path}/token", "session_name": "ci", "duration": 3600, "endpoint": "https://sts.amazonaws.com", "region": "us-east-1"}


def test_web_identity_from_the_environment(files, tmp_path):
    config = files("[profile ci]\nregion = eu-west-1\n", AWS_WEB_IDENTITY_TOKEN_FILE=f"{tmp_path}/token", AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME="pipeline")
    source = resolve(config, "ci")
    assert source.kind is kinds.WEB_IDENTITY
    assert (source.params["role_arn"], source.params["token_file"], source.params["session_name"]) == (ROLE, f"{tmp_path}/token", "pipeline")
    assert source.params["endpoint"] == EU_WEST_1["endpoint"]


def test_web_identity_without_a_role_is_refused(files, tmp_path):
    message = refusal(files(f"[profile ci]\nweb_identity_token_file = {tmp_path}/token\n"), "ci")
    assert message == "profile 'ci' has a web identity token file but no role (add role_arn, or set AWS_ROLE_ARN)"


def test_saml(files):
    config = files(
        "[profile corp]\nstsenv_saml_role_arn = arn:aws:iam::123456789012:role/Saml\n"
        "stsenv_saml_principal_arn = arn:aws:iam::123456789012:saml-provider/idp\nstsenv_saml_assertion_process = idp-login\n"
    )
    source = resolve(config, "corp")
    assert (source.kind, source.parent, source.private) == (kinds.SAML, None, {"assertion_process": "idp-login"})
    assert source.params["principal_arn"] == "arn:aws:iam::123456789012:saml-provider/idp" and source.params["duration"] == 3600
    message = refusal(files("[profile corp]\nstsenv_saml_role_arn = arn:aws:iam::123456789012:role/Saml\n"), "corp")
    assert message == "profile 'corp' needs stsenv_saml_principal_arn (the ARN of the SAML provider in IAM)"


def test_federation_is_signed_by_keys_never_by_an_mfa_session(files):
    config = files(f"[profile partner]\nstsenv_federation_name = ann\nsource_profile = base\nmfa_serial = {SERIAL}\nstsenv_tags = team=x\n")
    source = resolve(config, "partner")
    assert kinds_of(source) == [(kinds.FEDERATION, "partner"), (kinds.STATIC, "base")]
    assert (source.params["name"], source.params["duration"], source.params["tags"]) == ("ann", 3600, "team=x")


@pytest.mark.parametrize(
    "source_section",
    [
        f"role_arn = {ROLE}\nsource_profile = base",  # a role
        "aws_access_key_id = ASIASESSION000000001\naws_secret_access_key = s\naws_session_token = t",  # session keys
    ],
)
def test_federation_from_session_credentials_is_refused(files, source_section):
    config = files(f"[profile partner]\nstsenv_federation_name = ann\nsource_profile = src\n\n[profile src]\n{source_section}\n")
    assert "GetFederationToken needs long-lived IAM user keys, and 'src' holds session credentials" in refusal(config, "partner")


def test_assume_root(files):
    policy = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
    config = files(f"[profile root]\nstsenv_target_principal = 111111111111\nstsenv_task_policy_arn = {policy}\nsource_profile = base\n")
    source = resolve(config, "root")
    assert kinds_of(source) == [(kinds.ASSUME_ROOT, "root"), (kinds.STATIC, "base")]
    assert (source.params["target_principal"], source.params["task_policy_arn"], source.params["duration"]) == ("111111111111", policy, 900)
    assert refusal(files("[profile root]\nstsenv_target_principal = 111111111111\nsource_profile = base\n"), "root").startswith("profile 'root' needs stsenv_task_policy_arn")


def test_credential_source_environment(files):
    text = f"[profile prod]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
    source = resolve(files(text, AWS_ACCESS_KEY_ID="AKIAENV0000000000001", AWS_SECRET_ACCESS_KEY="envsecret"), "prod")
    assert kinds_of(source) == [(kinds.ASSUME_ROLE, "prod"), (kinds.ENVIRONMENT, "prod")]
    assert source.parent.params == {"access_key_id": "AKIAENV0000000000001"} and source.parent.private == {"secret_access_key": "envsecret"}
    assert "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set" in refusal(files(text), "prod")


@pytest.mark.parametrize(
    "lines, message",
    [
        ("credential_source = Ec2InstanceMetadata", "profile 'prod': credential_source = Ec2InstanceMetadata is not supported by stsenv (use Environment, or a source_profile)"),
        ("credential_source = Environment\nsource_profile = base", "profile 'prod' sets both source_profile and credential_source; keep one"),
        ("", "profile 'prod' has a role but no source of credentials to assume it with (add stsenv_source_profile (or source_profile) to [profile prod])"),
    ],
)
def test_what_signs_a_role_must_be_one_thing_stsenv_knows(files, lines, message):
    assert refusal(files(f"[profile prod]\nrole_arn = {ROLE}\n{lines}\n"), "prod") == message


def test_a_profile_with_nothing_is_refused(files):
    assert refusal(files("[profile empty]\nregion = eu-west-1\n"), "empty") == (
        "profile 'empty' has no credentials (it needs keys, a role_arn with a source, or a credential_process)"
    )


@pytest.mark.parametrize(
    "settings, labels",
    [
        (f"role_arn = {ROLE}\nstsenv_federation_name = ann", "role, federation"),
        ("stsenv_saml_role_arn = x\nstsenv_target_principal = 111111111111", "SAML, assume-root"),
        (f"stsenv_role_arn = {ROLE}\nweb_identity_token_file = /t\nstsenv_federation_name = ann", "web identity, federation"),
    ],
)
def test_settings_of_two_kinds_in_one_profile_are_refused(files, settings, labels):
    assert refusal(files(f"[profile p]\n{settings}\nsource_profile = base\n"), "p") == (
        f"profile 'p' has settings of more than one kind ({labels}) (keep one kind per profile)"
    )


# ---- chains: loops, depth, role chaining --------------------------------------------------------------------------


def test_a_loop_of_profiles_is_named(files):
    config = files(f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n\n[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n")
    assert refusal(config, "a") == "profile loop: a -> b -> a"


def test_a_role_signed_by_its_own_profiles_keys_is_no_loop(files):
    config = files(f"[profile a]\nrole_arn = {ROLE}\nsource_profile = a\n", "[a]\naws_access_key_id = AKIAOWN0000000000001\naws_secret_access_key = s\n")
    assert kinds_of(resolve(config, "a")) == [(kinds.ASSUME_ROLE, "a"), (kinds.STATIC, "a")]
    assert refusal(files(f"[profile a]\nrole_arn = {ROLE}\nsource_profile = a\n"), "a") == "profile loop: a -> a"


def chain(length):
    """Profiles p0 -> p1 -> ... -> base: `length` profiles in all."""
    roles = length - 1
    return "".join(f"[profile p{i}]\nrole_arn = {ROLE}\nsource_profile = {f'p{i + 1}' if i + 1 < roles else 'base'}\n\n" for i in range(roles))


def test_a_chain_of_the_most_profiles_resolves_and_one_more_is_refused(files):
    assert len(list(resolve(files(chain(MAX_CHAIN_PROFILES)), "p0").chain())) == MAX_CHAIN_PROFILES
    message = refusal(files(chain(MAX_CHAIN_PROFILES + 1)), "p0")
    assert message == (
        f"profile 'p0' goes through more than {MAX_CHAIN_PROFILES} profiles to its credentials (p0 -> p1 -> ... -> base) "
        "(shorten the chain of source_profile settings)"
    )


@pytest.mark.parametrize(
    "source, duration, refused",
    [
        (f"role_arn = {ROLE}\nsource_profile = base", 3600, False),
        (f"role_arn = {ROLE}\nsource_profile = base", 3601, True),
        (f"role_arn = {ROLE}\nsource_profile = base", 43200, True),
        ("web_identity_token_file = /t\nrole_arn = arn:aws:iam::123456789012:role/Web", 7200, True),
        ("aws_access_key_id = AKIASRC0000000000001\naws_secret_access_key = s", 43200, False),
        (f"aws_access_key_id = AKIASRC0000000000001\naws_secret_access_key = s\nmfa_serial = {SERIAL}", 43200, False),  # an MFA session is no role
    ],
)
def test_a_role_assumed_with_a_role_session_is_limited_to_an_hour(files, source, duration, refused):
    config = files(f"[profile src]\n{source}\n\n[profile top]\nrole_arn = {ROLE}\nsource_profile = src\nduration_seconds = {duration}\n")
    if refused:
        assert refusal(config, "top") == (
            f"profile 'top' asks for duration_seconds = {duration}, but its source 'src' is itself a role, and AWS limits "
            "role chaining to 3600 seconds (set duration_seconds to 3600 or less)"
        )
    else:
        assert resolve(config, "top").params["duration"] == duration


def test_role_chaining_of_an_adhoc_profile_is_said_in_flags(files):
    config = files(f"[profile src]\nrole_arn = {ROLE}\nsource_profile = base\n")
    config.profiles["adhoc:Admin"] = {"role_arn": ROLE, "source_profile": "src", "duration_seconds": "7200"}
    assert refusal(config, "adhoc:Admin").startswith("--duration-seconds 7200 is too long: the credentials that assume the role (src) are themselves a role session")


@pytest.mark.parametrize(
    "kind_settings, value, low, high",
    [
        (f"role_arn = {ROLE}\nsource_profile = base", "899", 900, 43200),
        (f"role_arn = {ROLE}\nsource_profile = base", "1h", 900, 43200),
        ("stsenv_federation_name = ann\nsource_profile = base", "129601", 900, 129600),
    ],
)
def test_durations_outside_the_kinds_range_are_refused(files, kind_settings, value, low, high):
    config = files(f"[profile p]\n{kind_settings}\nduration_seconds = {value}\n")
    assert refusal(config, "p") == f"profile 'p': duration_seconds = {value!r} must be a whole number of seconds from {low} to {high}"


# ---- MFA sessions open on the keys at the root of the chain -------------------------------------------------------


def mfa_config(files, base_extra="", **environ):
    credentials = KEYS + base_extra
    return files(
        f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = base\nmfa_serial = {SERIAL}\nmfa_process = otp-code\nregion = eu-west-1\nrole_session_name = s\n\n"
        f"[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/Ops\nsource_profile = base\nmfa_serial = {SERIAL}\nregion = us-west-2\nrole_session_name = s\n\n"
        f"[profile deep]\nrole_arn = arn:aws:iam::123456789012:role/Deep\nsource_profile = hop\nmfa_serial = {SERIAL}\nrole_session_name = s\n\n"
        f"[profile hop]\nrole_arn = arn:aws:iam::123456789012:role/Hop\nsource_profile = base\nrole_session_name = s\n",
        credentials,
        **environ,
    )


def test_the_mfa_session_opens_on_the_root_keys_and_the_role_call_carries_no_code(files):
    source = resolve(mfa_config(files), "admin")
    assert kinds_of(source) == [(kinds.ASSUME_ROLE, "admin"), (kinds.MFA_SESSION, "base"), (kinds.STATIC, "base")]
    assert "mfa_serial" not in source.params
    session = source.parent
    assert session.params == {"mfa_serial": SERIAL, "duration": 43200, "partition": "aws"}
    assert session.private == {"mfa_process": "otp-code", "sts": {"endpoint": "https://sts.amazonaws.com", "region": "us-east-1"}}  # base names no region
    assert session.cache_key() == (
        "mfa-session(duration=43200,mfa_serial='arn:aws:iam::123456789012:mfa/alice',partition='aws')"
        "<-[static(access_key_id='AKIABASE000000000001')<-[]]"
    )


def session_of(source):
    return next(node for node in source.chain() if node.kind is kinds.MFA_SESSION)


def test_one_mfa_session_serves_every_role_that_sources_the_keys_and_the_chain(files):
    config = mfa_config(files)
    sources = {name: resolve(config, name) for name in ("admin", "ops", "deep")}
    assert kinds_of(sources["deep"]) == [(kinds.ASSUME_ROLE, "deep"), (kinds.ASSUME_ROLE, "hop"), (kinds.MFA_SESSION, "base"), (kinds.STATIC, "base")]
    assert session_of(sources["admin"]).cache_key() == session_of(sources["ops"]).cache_key() == session_of(sources["deep"]).cache_key()


def test_the_mfa_session_is_keyed_by_the_partition_of_its_keys_and_called_in_their_region(files):
    """The session works in every region of its partition: its key holds the partition, its call the region."""
    everywhere = session_of(resolve(mfa_config(files), "admin"))
    regional = session_of(resolve(mfa_config(files, "region = eu-west-1\n"), "admin"))
    assert regional.cache_key() == everywhere.cache_key()
    assert regional.private["sts"] == EU_WEST_1
    china = session_of(resolve(mfa_config(files, AWS_REGION="cn-north-1"), "admin"))
    assert china.params["partition"] == "aws-cn"
    assert china.private["sts"] == {"endpoint": "https://sts.cn-north-1.amazonaws.com.cn", "region": "cn-north-1"}


def test_session_keys_get_no_mfa_session_and_the_role_call_carries_the_code(files):
    source = resolve(mfa_config(files, "aws_session_token = basetoken\n"), "admin")
    assert kinds_of(source) == [(kinds.ASSUME_ROLE, "admin"), (kinds.STATIC, "base")]
    assert source.params["mfa_serial"] == SERIAL and source.private == {"mfa_process": "otp-code"}


def test_keys_that_name_an_mfa_device_open_a_session_themselves(files):
    config = files("", KEYS + f"mfa_serial = {SERIAL}\nmfa_session_duration = 3600\n")
    source = resolve(config, "base")
    assert kinds_of(source) == [(kinds.MFA_SESSION, "base"), (kinds.STATIC, "base")]
    assert source.params["duration"] == 3600
    config = files("", KEYS + f"mfa_serial = {SERIAL}\nmfa_session_duration = 600\n")
    assert refusal(config, "base") == "profile 'base': mfa_session_duration = '600' must be a whole number of seconds from 900 to 129600"


# ---- names, unknown profiles, ad-hoc profiles, session settings --------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "dev.team@corp", "a-b_c+d=e,f:g/h", "adhoc:Admin", "x" * 128])
def test_valid_profile_names(name):
    assert check_profile_name(name) == name


@pytest.mark.parametrize("name", ["", "a b", "$(id)", "a;b", "x" * 129, "é", "a\nb", "`id`"])
def test_invalid_profile_names_are_refused(name):
    with pytest.raises(ConfigError, match="invalid profile name"):
        check_profile_name(name)


def test_unknown_profiles_are_explained(files):
    config = files("[prod]\nregion = eu-west-1\n\n[profile production]\nregion = eu-west-1\n")
    assert refusal(config, "prod") == f"profile 'prod' not found: {config.config_path} has [prod], but profiles there need [profile prod]"
    assert refusal(config, "prodution") == "profile 'prodution' not found (did you mean production?)"
    assert refusal(config, "zzz") == f"profile 'zzz' not found (profiles are read from {config.config_path})"
    assert refusal(config, "adhoc:Admin") == "adhoc:Admin was made from command-line flags, and has no profile to refresh it by (run that `stsenv use` (or `federate`) command again)"


def test_session_settings_and_a_policy_file(files, tmp_path):
    (tmp_path / "policy.json").write_text('{"Version": "2012-10-17"}')
    text = f"[profile p]\nrole_arn = {ROLE}\nsource_profile = base\nstsenv_policy_file = {tmp_path}/policy.json\nstsenv_policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess\n"
    params = resolve(files(text), "p").params
    assert (params["policy"], params["policy_arns"]) == ('{"Version": "2012-10-17"}', "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert "tags" not in params and "source_identity" not in params
    both = text + 'stsenv_policy = {"Version": "2012-10-17"}\n'
    assert refusal(files(both), "p") == "profile 'p' sets both stsenv_policy and stsenv_policy_file; keep one"
    missing = text.replace("policy.json", "missing.json")
    assert refusal(files(missing), "p") == f"stsenv_policy_file of profile 'p': cannot read {tmp_path}/missing.json: No such file or directory"


def test_a_config_file_that_is_not_utf8_is_named(files, tmp_path):
    (tmp_path / "config").write_bytes(b"[profile p]\nregion = \xff\n")
    with pytest.raises(ConfigError, match=f"^{tmp_path}/config is not UTF-8 text$"):
        AwsConfig({"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")})


# ---- cache keys never change for an unchanged profile -----------------------------------------------------------


def test_pinned_cache_keys(files, tmp_path):
    config = files(
        f"[profile web]\nweb_identity_token_file = /var/run/token\nrole_arn = {ROLE}\nrole_session_name = ci\nregion = eu-west-1\n\n"
        "[profile partner]\nstsenv_federation_name = ann\nsource_profile = base\nstsenv_policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess\n\n"
        f"[profile fips]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = s\nregion = us-east-1\nuse_fips_endpoint = true\nduration_seconds = 900\n"
    )
    assert resolve(config, "web").cache_key() == (
        "web-identity(duration=3600,endpoint='https://sts.eu-west-1.amazonaws.com',region='eu-west-1',"
        "role_arn='arn:aws:iam::123456789012:role/Admin',session_name='ci',token_file='/var/run/token')<-[]"
    )
    assert resolve(config, "partner").cache_key() == (
        "federation(duration=3600,endpoint='https://sts.amazonaws.com',name='ann',policy_arns='arn:aws:iam::aws:policy/ReadOnlyAccess',"
        "region='us-east-1')<-[static(access_key_id='AKIABASE000000000001')<-[]]"
    )
    assert resolve(config, "fips").cache_key() == (
        "assume-role(duration=900,endpoint='https://sts-fips.us-east-1.amazonaws.com',region='us-east-1',"
        "role_arn='arn:aws:iam::123456789012:role/Admin',session_name='s')<-[static(access_key_id='AKIABASE000000000001')<-[]]"
    )


def test_a_change_that_decides_the_credentials_changes_the_key(files):
    base = f"[profile p]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = s\n"
    key = resolve(files(base), "p").cache_key()
    for extra in ("duration_seconds = 1800", "external_id = x1", "region = eu-west-1", "stsenv_tags = a=b", "stsenv_source_identity = ann"):
        assert resolve(files(base + extra + "\n"), "p").cache_key() != key, extra
    assert resolve(files(base + "output = json\ncli_pager =\n"), "p").cache_key() == key  # settings of other tools: same key
