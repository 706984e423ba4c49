"""`stsenv configure` writes a served profile without losing anything else in the file."""


def test_configure_adds_a_profile_and_keeps_the_rest(world, home, sts):
    before = home.config.read_text()
    result = home.stsenv(
        "configure", "staging", "--role-arn", world.role_arn, "--source-profile", "base", "--region", "eu-central-1",
        "--external-id", "ext-123", "--duration-seconds", "1800",
    )
    assert result.returncode == 0, result.stderr
    after = home.config.read_text()
    assert after.startswith(before)
    added = after[len(before):]
    assert "[profile staging]" in added
    assert "credential_process = stsenv serve staging" in added
    assert f"stsenv_role_arn = {world.role_arn}" in added
    assert "stsenv_external_id = ext-123" in added
    identity = home.aws("--profile", "staging", "sts", "get-caller-identity", "--output", "json")
    assert identity.returncode == 0, identity.stderr
    assert "assumed-role/Admin/" in identity.stdout


def test_configure_updates_in_place(world, home):
    result = home.stsenv("configure", "prod", "--role-arn", "arn:aws:iam::123456789012:role/Other", "--source-profile", "base")
    assert result.returncode == 0, result.stderr
    text = home.config.read_text()
    assert text.count("[profile prod]") == 1
    assert "stsenv_role_arn = arn:aws:iam::123456789012:role/Other" in text
    assert "# the user's own comment" in text
    assert text.index("[profile prod]") < text.index("[profile prod-role]")
    assert "region = eu-west-1" in text


def test_configure_refuses_bad_names_and_botocore_roles(world, home):
    bad = home.stsenv("configure", "a b", "--role-arn", world.role_arn, "--source-profile", "base")
    assert bad.returncode == 2 and "invalid profile name" in bad.stderr
    clash = home.stsenv("configure", "prod-role", "--role-arn", world.role_arn, "--source-profile", "base")
    assert clash.returncode == 2 and "botocore would act on" in clash.stderr
    missing = home.stsenv("configure", "x", "--role-arn", world.role_arn, "--source-profile", "nope")
    assert missing.returncode == 2 and "'nope' not found" in missing.stderr


def test_configure_creates_the_config_file(home, sts):
    home.write_credentials("[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")
    result = home.stsenv("configure", "new", "--role-arn", "arn:aws:iam::123456789012:role/X", "--source-profile", "base")
    assert result.returncode == 0, result.stderr
    assert home.config.read_text().startswith("[profile new]\n")
    assert oct(home.config.stat().st_mode & 0o777) == "0o600"
