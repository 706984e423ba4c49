"""`stsenv doctor`: a healthy setup passes; on a broken one each planted problem is found with its fix."""

import os
import re

INTEGRATED = {"STSENV_SHELL_INTEGRATION": "bash"}


def doctor(home, env=None):
    result = home.stsenv("doctor", env=env)
    assert "Traceback" not in result.stderr and result.stderr == "", result.stderr
    return result


def test_healthy_setup(world, home):
    os.chmod(home.credentials, 0o600)
    assert home.stsenv("use", "prod").returncode == 0  # the cache exists, as it does in use
    result = doctor(home, INTEGRATED)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "stsenv doctor: 0 problems, 0 warnings"
    assert "ok    clock agrees with STS" in result.stdout
    assert "ok    credential_process of profile 'prod' runs this stsenv" in result.stdout


def test_broken_setup_finds_each_planted_problem(world, home, sts, tmp_path):
    other = tmp_path / "elsewhere" / "stsenv"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\necho an old stsenv\n")
    other.chmod(0o755)
    home.write_config(
        home.config.read_text()
        + f"\n[profile orphan]\nrole_arn = {world.role_arn}\nsource_profile = nowhere\n"
        + "\n[profile old]\ncredential_process = /opt/gone/stsenv serve prod\n"
        + f"\n[profile twin]\ncredential_process = {other} serve prod\n"
        + "\n[profile piped]\ncredential_process = stsenv serve prod | tee /tmp/log\n"
    )
    assert home.stsenv("use", "prod").returncode == 0
    home.cache.chmod(0o755)
    (entry,) = home.cache.glob("prod.*.json")
    entry.chmod(0o644)
    (home.cache / "garbage.json").write_text("{not json")
    (home.cache / "garbage.json").chmod(0o600)
    (home.cache / "link.json").symlink_to(entry)
    sts.clock_offset = 900

    result = doctor(home)
    assert result.returncode == 2
    out = result.stdout
    planted = [
        "FAIL  profile 'orphan': profile 'nowhere' not found",
        "FAIL  credential_process of profile 'old' runs `/opt/gone/stsenv`, which does not exist or is not on PATH",
        f"FAIL  credential_process of profile 'twin' runs {other}, a different stsenv from this one",
        "FAIL  credential_process of profile 'piped' has shell characters (|); botocore runs it without a shell",
        f"FAIL  cache {home.cache} is mode 0755: others may read credentials\n      fix: chmod 700 {home.cache}",
        f"FAIL  cache file {entry} is mode 0644, not 0600",
        f"FAIL  cache file {home.cache / 'garbage.json'} is not a JSON cache entry",
        f"FAIL  cache file {home.cache / 'link.json'} is a symlink; stsenv never follows one",
        "warn  the shell integration is not loaded in this shell",
        "warn  " + str(home.credentials) + " holds long-lived keys and others may read it (mode 0644)",
    ]
    for line in planted:
        assert line in out, (line, out)
    # the Date header counts whole seconds, so 900 s of skew reads as 899 to 901
    assert re.search(r"FAIL  this machine's clock is (899|900|901)s behind STS", out), out
    assert out.splitlines()[-1] == "stsenv doctor: 9 problems, 2 warnings"
    assert out.count("      fix: ") == 11


def test_config_that_does_not_parse(world, home):
    home.write_config(home.config.read_text() + "\n[profile bad]\nthis line is no setting\n")
    result = doctor(home, INTEGRATED)
    assert result.returncode == 2
    assert f"FAIL  {home.config}, line 21: expected `key = value` or a [section] header" in result.stdout


def test_shell_integration_fix_names_the_users_shell(world, home):
    result = doctor(home, {"SHELL": "/usr/bin/fish"})
    assert "fix: add `stsenv init fish | source` to ~/.config/fish/config.fish and open a new shell" in result.stdout
