"""`--duration-seconds` and `--region` on any profile (stsenv.adhoc.Overrides): the duration checked
against the kind's range before any call and part of the cache key; the region exported, never where STS is
called, so it shares the profile's cache entry."""

import json

import pytest


def exports(home, *args, env=None):
    result = home.stsenv("use", *args, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def durations_asked(sts, action="AssumeRole"):
    return [entry["params"].get("DurationSeconds") for entry in sts.call_log() if entry["action"] == action]


def refused(home, sts, *args):
    """The one `stsenv:` line of a `use` that must stop before any STS call and before any cache file."""
    result = home.stsenv("use", *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert sts.calls() == 0
    assert not home.cache.exists()
    (line,) = result.stderr.splitlines()
    return line


def test_duration_of_a_profile_is_asked_for_and_keyed(world, home, sts):
    short = exports(home, "prod", "--duration-seconds", "900")
    assert exports(home, "prod", "--duration-seconds", "900") == short  # cached under its own key
    plain = exports(home, "prod")
    assert plain["AWS_ACCESS_KEY_ID"] != short["AWS_ACCESS_KEY_ID"]
    assert exports(home, "prod")["AWS_ACCESS_KEY_ID"] == plain["AWS_ACCESS_KEY_ID"]
    assert durations_asked(sts) == ["900", "3600"]
    assert len([name for name in home.cache_entries() if name.startswith("prod.")]) == 2
    assert int(short["AWS_SESSION_EXPIRES"]) < int(plain["AWS_SESSION_EXPIRES"]) - 2000


def test_duration_follows_a_profile_that_only_serves_another(world, home, sts):
    """`credential_process = stsenv serve prod-role`: the flag is the served profile's."""
    exports(home, "prod-served", "--duration-seconds", "1800")
    assert durations_asked(sts) == ["1800"]


@pytest.mark.parametrize(
    "args, words",
    [
        (("prod", "--duration-seconds", "43201"), "--duration-seconds 43201 is outside 900 to 43200, the range AWS allows for a role session"),
        (("prod", "--duration-seconds", "899"), "--duration-seconds 899 is outside 900 to 43200"),
        (("base", "--duration-seconds", "900"), "profile 'base' holds its credentials (keys or a credential_process)"),
        (("prod", "--region", "eu-west-1/../x"), "--region 'eu-west-1/../x' is not a region name"),
        (("prod", "--region", "cn-north-1"), "--region cn-north-1 is in partition aws-cn, and profile 'prod' gets its credentials from aws"),
        (("prod", "--region", "us-gov-west-1"), "partition aws-us-gov"),
    ],
    ids=["too-long", "too-short", "keys", "no-region", "china", "govcloud"],
)
def test_bad_overrides_are_refused_before_any_call(world, home, sts, args, words):
    assert words in refused(home, sts, *args)


def test_chained_role_longer_than_an_hour_is_refused_in_the_flags_words(world, home, sts):
    home.write_config(home.config.read_text() + f"\n[profile chained]\nrole_arn = {world.role_arn}\nsource_profile = prod-role\n")
    line = refused(home, sts, "chained", "--duration-seconds", "7200")
    assert line == (
        "stsenv: --duration-seconds 7200 is too long: the credentials that assume the role (prod-role) are themselves "
        "a role session, and AWS limits role chaining to 3600 seconds (give --duration-seconds 3600 or less)"
    )


def test_chained_role_within_an_hour_is_fine(world, home, sts):
    home.write_config(home.config.read_text() + f"\n[profile chained]\nrole_arn = {world.role_arn}\nsource_profile = prod-role\n")
    exports(home, "chained", "--duration-seconds", "1200")
    assert durations_asked(sts) == ["3600", "1200"]  # prod-role (its default), then the chained role


def test_region_is_exported_and_shares_the_profiles_cache_entry(world, home, sts):
    own = exports(home, "prod")
    elsewhere = exports(home, "prod", "--region", "ap-southeast-2")
    assert (own["AWS_REGION"], own["AWS_DEFAULT_REGION"]) == ("eu-west-1", "eu-west-1")
    assert (elsewhere["AWS_REGION"], elsewhere["AWS_DEFAULT_REGION"]) == ("ap-southeast-2", "ap-southeast-2")
    assert elsewhere["AWS_ACCESS_KEY_ID"] == own["AWS_ACCESS_KEY_ID"]
    assert sts.calls("AssumeRole") == 1
    assert len(home.cache_entries()) == 1


def test_region_first_then_without(world, home, sts):
    """The other order: the entry made with --region is the profile's own (its STS endpoint decided it)."""
    elsewhere = exports(home, "prod", "--region", "sa-east-1")
    assert exports(home, "prod")["AWS_ACCESS_KEY_ID"] == elsewhere["AWS_ACCESS_KEY_ID"]
    (assume,) = [entry for entry in sts.call_log() if entry["action"] == "AssumeRole"]
    assert assume["access_key_id"] == world.alice["access_key_id"]
    assert sts.calls("AssumeRole") == 1


def test_region_in_a_shell_block_keeps_the_users_own_region(world, home, sts):
    result = home.stsenv("use", "prod", "--region", "ap-south-1", "--shell", "bash", env={"AWS_REGION": "us-west-2"})
    assert result.returncode == 0, result.stderr
    assert "export AWS_REGION='ap-south-1';" in result.stdout
    assert "export STSENV_USER_AWS_REGION='us-west-2';" in result.stdout


def test_region_for_a_profile_without_one(world, home, sts):
    """base holds keys: no duration to choose, but a region to export."""
    values = exports(home, "base", "--region", "eu-north-1")
    assert values["AWS_REGION"] == "eu-north-1"
    assert sts.calls() == 0
