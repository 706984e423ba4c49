"""Malformed config files seen in the wild: each one either works as botocore reads it (same profile, same
region) or is a clear exit 2 naming the file and what is wrong. botocore itself is asked in-process."""

import os
import time

import botocore.session
import pytest
from botocore.exceptions import BotoCoreError

from reliakit import one_line, run, served


def botocore_reads(home, profile):
    """The profile's settings as botocore resolves them, or the exception it raises."""
    session = botocore.session.Session(profile=profile)
    session.set_config_variable("config_file", str(home.config))
    session.set_config_variable("credentials_file", str(home.credentials))
    try:
        return session.get_scoped_config()
    except (BotoCoreError, UnicodeDecodeError) as error:
        return error


def stsenv_region(home, profile):
    """(exit code, AWS_REGION or None, stderr) of `stsenv use PROFILE --format json`."""
    import json

    result = run(home, "use", profile, "--format", "json")
    if result.returncode:
        return result.returncode, None, result
    return 0, json.loads(result.stdout).get("AWS_REGION"), result


PROD = "[profile prod]\ncredential_process = stsenv serve prod\nstsenv_role_arn = {role}\nstsenv_source_profile = base\n"
CASES = {
    # name: (config text, profile asked for, words stsenv's exit-2 line must have when botocore refuses too)
    "duplicate section": (PROD + "region = eu-west-1\n\n" + PROD, "prod", "section [profile prod] appears twice"),
    "duplicate key": (PROD + "region = eu-west-1\nregion = us-east-1\n", "prod", "`region` is set twice"),
    "duplicate key in another case": (PROD + "region = eu-west-1\nREGION = us-east-1\n", "prod", "`region` is set twice"),
    "missing profile prefix": (PROD.replace("[profile prod]", "[prod]") + "region = eu-west-1\n", "prod", "profiles there need [profile prod]"),
    "setting before any section": ("region = eu-west-1\n" + PROD, "prod", "a setting before any [section] header"),
    "line without a delimiter": (PROD + "region eu-west-1\n", "prod", "expected `key = value`"),
    "unknown keys and nested values": (
        PROD + "region = eu-west-1\ncli_pager =\nfoo_bar = baz\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path\n"
        "\n[plugins]\ncli_legacy_plugin_path = /x\n\n[sso-session corp]\nsso_region = us-east-1\n",
        "prod", None,
    ),
    "CRLF line ends": ((PROD + "region = eu-west-1\n").replace("\n", "\r\n"), "prod", None),
    "[DEFAULT] section": ("[DEFAULT]\nregion = ap-south-1\n\n" + PROD, "prod", None),
    "comment after the header": (PROD.replace("[profile prod]", "[profile prod] # main account") + "region = eu-west-1\n", "prod", None),
    "comments of every kind": ("# top\n; top\n" + PROD + "  # indented\n;x\nregion = eu-west-1\n#end", "prod", None),
    "tabs and no final newline": (PROD.replace(" = ", "\t=\t") + "region\t=\teu-west-1", "prod", None),
    "indented key continues the value above": (
        PROD.replace("stsenv_role_arn", "  stsenv_role_arn") + "region = eu-west-1\n", "prod", "names no role or keys for stsenv"
    ),
    "upper-case keys": (PROD.replace("stsenv_role_arn", "STSENV_Role_Arn") + "Region = eu-west-1\n", "prod", None),
    "spaces inside the header": (PROD.replace("[profile prod]", "[profile   prod  ]") + "region = eu-west-1\n", "prod", None),
    "inline comment on the region": (PROD + "region = eu-west-1 # Ireland\n", "prod", "is not a region name"),
    "empty file": ("", "prod", "profile 'prod' not found"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_config_works_like_botocore_or_exits_2(world, home, sts, case):
    text, profile, words = CASES[case]
    home.write_config(text.format(role=world.role_arn))
    theirs = botocore_reads(home, profile)
    code, region, result = stsenv_region(home, profile)
    if isinstance(theirs, Exception) or words:
        message = one_line(result, 2)
        assert words in message, message
        if "appears twice" in words or "set twice" in words or "before any" in words or "expected" in words:
            assert str(home.config) in message and ", line " in message
    else:
        assert code == 0, result.stderr
        assert result.stderr == ""
        assert region == theirs.get("region"), (region, theirs)


def test_bom_is_read_although_botocore_refuses_it(world, home, sts):
    """A byte order mark (Notepad's UTF-8): botocore cannot parse the file; stsenv reads it."""
    home.write_config("\ufeff" + home.config.read_text())
    assert isinstance(botocore_reads(home, "prod"), BotoCoreError)
    code, region, result = stsenv_region(home, "prod")
    assert code == 0 and region == "eu-west-1", result.stderr


def test_profile_prefix_in_the_credentials_file_is_explained(world, home, sts):
    """`[profile base]` in ~/.aws/credentials names a profile called `profile base`, for botocore too."""
    home.write_credentials(home.credentials.read_text().replace("[base]", "[profile base]"))
    assert isinstance(botocore_reads(home, "base"), BotoCoreError)
    message = one_line(run(home, "serve", "prod"), 2)
    assert "'base'" in message


def test_header_with_a_space_in_the_name_is_no_profile(world, home, sts):
    home.write_config(home.config.read_text() + f"\n[profile my prod]\nrole_arn = {world.role_arn}\nsource_profile = base\n")
    assert isinstance(botocore_reads(home, "my prod"), BotoCoreError)
    assert "invalid profile name" in one_line(run(home, "use", "my prod"), 2)


@pytest.mark.parametrize("content", [b"[profile prod]\nregion = eu-west-1 \xe9t\xe9\n", b"\xff\xfe[\x00p\x00"])
def test_config_that_is_not_utf8_is_exit_2(world, home, sts, content):
    home.config.write_bytes(content)
    assert "is not UTF-8 text" in one_line(run(home, "serve", "prod"), 2)


def test_config_that_is_a_directory_is_exit_2(world, home, sts):
    home.config.unlink()
    home.config.mkdir()
    assert f"cannot read {home.config}" in one_line(run(home, "serve", "prod"), 2)


def test_huge_config_file(world, home, sts):
    """100 000 profiles (about 10 MB) and a value continued over 200 000 lines: read in linear time."""
    profiles = "".join(f"[profile p{i}]\nrole_arn = {world.role_arn}\nsource_profile = base\nregion = us-east-1\n\n" for i in range(100000))
    notes = "[profile notes]\nnote = start\n" + "  and more text on one more continued line\n" * 200000
    home.write_config(home.config.read_text() + "\n" + profiles + notes)
    assert os.path.getsize(home.config) > 10_000_000
    started = time.monotonic()
    cold = run(home, "use", "prod")
    assert cold.returncode == 0, cold.stderr
    warm = run(home, "serve", "p99999")
    assert warm.returncode == 0, warm.stderr
    assert time.monotonic() - started < 30  # generous: about a second here; a quadratic reader took minutes


# ---- long source_profile chains ---------------------------------------------------------------------------

MAX_CHAIN_PROFILES = 32  # stsenv.config.MAX_CHAIN_PROFILES


def write_chain(home, world, length):
    """A chain of `length` profiles: base's keys, then roles link1 ... link{length - 1}, each sourced from the
    one before. The names from the top down."""
    home.write_config("".join(
        f"[profile link{n}]\nrole_arn = {world.role_arn}\nsource_profile = {f'link{n - 1}' if n > 1 else 'base'}\n\n" for n in range(1, length)
    ))
    return [f"link{n}" for n in range(length - 1, 0, -1)] + ["base"]


@pytest.mark.parametrize("length", [MAX_CHAIN_PROFILES + 1, 300])
def test_a_chain_too_long_is_one_line_and_no_call(world, home, sts, length):
    names = write_chain(home, world, length)
    profile = names[0]
    for command in (("serve", profile), ("use", profile), ("login", profile)):
        message = one_line(run(home, *command), 2)
        assert message == (
            f"stsenv: profile {profile!r} goes through more than {MAX_CHAIN_PROFILES} profiles to its credentials "
            f"({profile} -> {names[1]} -> ... -> {names[MAX_CHAIN_PROFILES]}) (shorten the chain of source_profile settings)"
        )
    for command in (("ls",), ("logout", "base"), ("doctor", "--no-clock")):
        result = run(home, *command)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert sts.calls() == 0


def test_a_chain_of_the_longest_length_works(world, home, sts):
    profile = write_chain(home, world, MAX_CHAIN_PROFILES)[0]
    assert served(run(home, "serve", profile))["AccessKeyId"].startswith("ASIA")
    assert sts.calls("AssumeRole") == MAX_CHAIN_PROFILES - 1, "base is keys; every other link is one AssumeRole"
    assert served(run(home, "serve", profile))
    assert sts.calls("AssumeRole") == MAX_CHAIN_PROFILES - 1
