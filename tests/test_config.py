"""Bad configuration and bad input: one clear `stsenv:` line and exit 2, never a traceback."""

import sys

import pytest

from stsenv import inifile
from stsenv.errors import ConfigError


def refused(home, *args, env=None):
    result = home.stsenv(*args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stsenv: "), result.stderr
    return lines[0]


def test_unknown_profile_suggests_close_names(world, home):
    message = refused(home, "serve", "prdo")
    assert "profile 'prdo' not found" in message and "did you mean prod" in message


def test_profile_without_prefix_in_config_is_explained(world, home):
    home.write_config(home.config.read_text() + "\n[staging]\nregion = us-east-1\n")
    message = refused(home, "use", "staging")
    assert "[profile staging]" in message


def test_role_without_source(world, home):
    home.write_config(home.config.read_text() + f"\n[profile lonely]\nrole_arn = {world.role_arn}\n")
    message = refused(home, "serve", "lonely")
    assert "no source of credentials" in message


def test_source_loop_is_detected(world, home):
    home.write_config(
        home.config.read_text()
        + f"\n[profile a]\nrole_arn = {world.role_arn}\nsource_profile = b\n"
        + f"\n[profile b]\nrole_arn = {world.role_arn}\nsource_profile = a\n"
    )
    assert "profile loop: a -> b -> a" in refused(home, "serve", "a")


def test_served_profile_sourcing_itself_is_a_loop(world, home):
    home.write_config(
        home.config.read_text()
        + "\n[profile selfish]\ncredential_process = stsenv serve selfish\n"
        + f"stsenv_role_arn = {world.role_arn}\nstsenv_source_profile = selfish\n"
    )
    assert "profile loop: selfish -> selfish" in refused(home, "serve", "selfish")


def test_served_profile_with_nothing_to_serve(world, home):
    home.write_config(home.config.read_text() + "\n[profile empty]\ncredential_process = stsenv serve empty\n")
    assert "names no role or keys for stsenv" in refused(home, "serve", "empty")


def test_role_chain_of_any_depth(world, home, sts):
    home.write_config(
        home.config.read_text()
        + f"\n[profile hop1]\nrole_arn = {world.role_arn}\nsource_profile = base\n"
        + f"\n[profile hop2]\nrole_arn = {world.role_arn}\nsource_profile = hop1\n"
        + f"\n[profile hop3]\nrole_arn = {world.role_arn}\nsource_profile = hop2\n"
    )
    result = home.stsenv("serve", "hop3")
    assert result.returncode == 0, result.stderr
    assert sts.calls("AssumeRole") == 3


def test_role_chaining_beyond_one_hour_is_explained(world, home):
    home.write_config(
        home.config.read_text()
        + f"\n[profile chained]\nrole_arn = {world.role_arn}\nsource_profile = prod-role\nduration_seconds = 7200\n"
    )
    assert "limits role chaining to 3600 seconds" in refused(home, "serve", "chained")


def test_credential_source_environment(world, home, sts):
    home.write_config(home.config.read_text() + f"\n[profile from-env]\nrole_arn = {world.role_arn}\ncredential_source = Environment\n")
    env = {"AWS_ACCESS_KEY_ID": world.alice["access_key_id"], "AWS_SECRET_ACCESS_KEY": world.alice["secret_access_key"]}
    result = home.stsenv("serve", "from-env", env=env)
    assert result.returncode == 0, result.stderr
    assert "credential_source = Environment" in refused(home, "serve", "from-env")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[profile prod]\nregion = a\n[profile prod]\nregion = b\n", "appears twice"),
        ("region = us-east-1\n[profile prod]\n", "before any [section]"),
        ("[profile prod]\nthis line has no delimiter\n", "expected `key = value`"),
        ("[profile prod]\nregion = a\nREGION = b\n", "is set twice"),
    ],
)
def test_malformed_config_file(world, home, text, expected):
    home.write_config(text)
    message = refused(home, "serve", "prod")
    assert expected in message and str(home.config) in message


def test_invalid_profile_names_are_refused_before_any_output(world, home):
    for name in ["prod;rm -rf /", "$(touch pwned)", "a b", "x" * 200, "`id`"]:
        assert "invalid profile name" in refused(home, "use", name)


def test_config_with_crlf_and_bom_works(world, home, sts):
    home.write_config("\ufeff" + home.config.read_text().replace("\n", "\r\n"))
    result = home.stsenv("serve", "prod")
    assert result.returncode == 0, result.stderr


def test_bad_duration_in_config(world, home):
    home.write_config(home.config.read_text().replace("region = eu-west-1", "region = eu-west-1\nstsenv_duration_seconds = ten"))
    assert "duration_seconds = 'ten' must be a whole number" in refused(home, "serve", "prod")


def test_usage_errors_are_one_line(world, home):
    assert "see `stsenv" in refused(home, "use", "--shell", "tcsh", "prod")
    assert refused(home, "no-such-command")


def test_inifile_reads_like_botocore():
    text = "[profile p]\nkey = a = b\nother: c\n  continued\n# comment\n; comment\n[services s]\nsts =\n  endpoint_url = http://x\n"
    sections = inifile.parse(text, "f")
    assert sections["profile p"] == {"key": "a = b", "other": "c\ncontinued"}
    assert inifile.nested(sections["services s"]["sts"]) == {"endpoint_url": "http://x"}
    with pytest.raises(ConfigError):
        inifile.parse("[a]\n[a]\n", "f")


def test_source_profile_with_another_tools_credential_process(world, home, sts, tmp_path):
    tool = tmp_path / "other-tool.py"
    tool.write_text(
        "import json\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': {world.alice['access_key_id']!r}, "
        f"'SecretAccessKey': {world.alice['secret_access_key']!r}}}))\n"
    )
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {sys.executable} {tool}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    result = home.stsenv("serve", "via-tool")
    assert result.returncode == 0, result.stderr
    assert sts.calls("AssumeRole") == 1


@pytest.mark.parametrize(
    "command, code, expected",
    [
        ("/nonexistent/tool", 2, "cannot run the credential_process of profile 'vaulted' `/nonexistent/tool`"),
        ("false", 1, "the credential_process of profile 'vaulted' `false` exited with status 1"),
        ("echo nonsense", 1, "the credential_process of profile 'vaulted' printed something that is not JSON"),
    ],
)
def test_broken_source_credential_process(world, home, sts, command, code, expected):
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {command}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    result = home.stsenv("serve", "via-tool")
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("stsenv: ") and expected in result.stderr


def test_a_missing_source_is_said_as_the_mistake_of_the_profile_naming_it(world, home, sts):
    home.write_config(
        home.config.read_text()
        + f"\n[profile badsrc]\nrole_arn = {world.role_arn}\nsource_profile = bsae\n"
        + f"\n[profile badsrc2]\nstsenv_role_arn = {world.role_arn}\nstsenv_source_profile = prod-rol\n"
        + "\n[profile served-typo]\ncredential_process = stsenv serve prod-rol\n"
        + f"\n[profile via-stray]\nrole_arn = {world.role_arn}\nsource_profile = stray\n"
        + "\n[stray]\nregion = us-east-1\n"
        + f"\n[profile odd-name]\nrole_arn = {world.role_arn}\nsource_profile = a$(b)\n"
    )
    expected = {
        "badsrc": "profile 'badsrc' names source_profile 'bsae', which does not exist (did you mean base?)",
        "badsrc2": "profile 'badsrc2' names stsenv_source_profile 'prod-rol', which does not exist (did you mean prod-role, prod, prod-served?)",
        "served-typo": "profile 'served-typo' runs stsenv serve with profile 'prod-rol', which does not exist (did you mean prod-role, prod, prod-served?)",
        "via-stray": f"profile 'via-stray' names source_profile 'stray', which does not exist: {home.config} has [stray], but profiles there need [profile stray]",
        "odd-name": "profile 'odd-name' names source_profile 'a$(b)', which is not a profile name (use letters, digits and - _ . @ + = , : / only)",
    }
    for profile, message in expected.items():
        assert refused(home, "serve", profile) == f"stsenv: {message}"
    assert sts.calls() == 0
