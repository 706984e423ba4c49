"""`stsenv logout` of IAM Identity Center profiles: `logout PROFILE` removes stsenv's cached role credentials
(the token stays: other profiles and the aws CLI use it); `logout --sso PROFILE` also ends the portal session
and removes the session's token file, naming it, and keeps the client registration as `aws sso logout` does.
The commands as processes, and stsenv.sso.logout beneath them."""

import json

from test_sso_login import registration_file
from test_sso_token import SsoWorld

from stsenv.config import AwsConfig
from stsenv.sso import logout as sso_logout


def served(world, *profiles):
    for profile in profiles:
        result = world.stsenv("use", profile, "--format", "json")
        assert result.returncode == 0, result.stderr


def test_logout_of_an_sso_profile_removes_its_role_credentials_and_keeps_the_token(home, sso, sts):
    world = SsoWorld(home, sso)
    role_arn = sts.create_role("Deploy")
    world.add_config(f"[profile deploy]\nrole_arn = {role_arn}\nsource_profile = dev\n")
    token = world.write_token()
    served(world, "dev", "deploy", "dev-admin")
    assert sorted(entry["profile"] for entry in home.cache_entries().values()) == ["deploy", "dev", "dev-admin"]
    result = world.stsenv("logout", "dev")
    assert result.returncode == 0 and "removed 2 cached credentials for dev" in result.stderr
    assert [entry["profile"] for entry in home.cache_entries().values()] == ["dev-admin"]
    assert world.read_token() == token and sso.access_token_valid(token["accessToken"]) and sso.calls("Logout") == 0


def test_logout_sso_ends_the_session_removes_its_token_and_every_profile_s_credentials(home, sso):
    world = SsoWorld(home, sso)
    token = world.write_token()
    registration = registration_file(home, sso.start_url, "us-east-1", ["sso:account:access"], "corp")
    registration.write_text(json.dumps({"clientId": token["clientId"], "clientSecret": token["clientSecret"], "expiresAt": token["registrationExpiresAt"]}))
    served(world, "dev", "dev-admin")
    result = world.stsenv("logout", "--sso", "dev")
    assert result.returncode == 0, result.stderr
    assert f"stsenv: ended the session and removed the IAM Identity Center token of sso-session corp: {world.token_path()}" in result.stderr
    assert "removed 2 cached credentials for dev" in result.stderr and home.cache_entries() == {}
    assert not world.token_path().exists() and registration.exists()
    assert sso.calls("Logout") == 1 and not sso.access_token_valid(token["accessToken"])
    again = world.stsenv("logout", "--sso", "dev")
    assert again.returncode == 0 and f"no IAM Identity Center token of sso-session corp to remove ({world.token_path()})" in again.stderr
    assert sso.calls("Logout") == 1
    served_after = world.stsenv("serve", "dev")
    assert served_after.returncode == 3 and "`stsenv login dev`" in served_after.stderr


def test_logout_by_sso_session_name_ends_it_and_removes_its_profiles_credentials(home, sso, sts):
    world = SsoWorld(home, sso)
    role_arn = sts.create_role("Deploy")
    world.add_config(f"[profile deploy]\nrole_arn = {role_arn}\nsource_profile = dev\n")
    token = world.write_token()
    world.write_token("legacy")
    served(world, "dev", "dev-admin", "deploy", "legacy")
    result = world.stsenv("logout", "--sso-session", "corp")
    assert result.returncode == 0, result.stderr
    assert f"ended the session and removed the IAM Identity Center token of sso-session corp: {world.token_path()}" in result.stderr
    assert "removed 3 cached credentials for sso-session corp" in result.stderr
    assert [entry["profile"] for entry in home.cache_entries().values()] == ["legacy"]  # another session's
    assert not world.token_path().exists() and world.token_path("legacy").exists()
    assert sso.calls("Logout") == 1 and not sso.access_token_valid(token["accessToken"])
    for args in (("--sso-session", "nosuch"), ("dev", "--sso-session", "corp"), ("--sso",), ("--all", "--sso-session", "corp")):
        refused = world.stsenv("logout", *args)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, (args, refused.stderr)


def test_logout_sso_of_a_profile_that_is_not_sso_is_refused(home, sso, world):
    SsoWorld(home, sso).add_config(f"[profile prod2]\nrole_arn = {world.role_arn}\nsource_profile = base\n")
    result = home.stsenv("logout", "--sso", "prod2")
    assert result.returncode == 2 and result.stderr == "stsenv: profile 'prod2' is not an IAM Identity Center (SSO) profile (leave out --sso)\n"
    both = home.stsenv("logout", "--sso", "--all")
    assert both.returncode == 2 and both.stderr.count("\n") == 1


def test_logout_does_not_wait_for_a_portal_that_fails(home, sso):
    world = SsoWorld(home, sso)
    world.write_token()
    sso.inject_fault("Logout", "500", times=3)
    result = sso_logout.logout(world.settings(), world.env)
    assert result.removed and not result.session_ended and not world.token_path().exists()


def test_an_expired_token_is_removed_without_asking_the_portal(home, sso):
    world = SsoWorld(home, sso)
    world.write_token(expires_in=-10)
    assert sso_logout.logout(world.settings(), world.env).removed and sso.calls() == 0


def test_the_profiles_of_a_session_are_those_that_share_its_token(home, sso):
    world = SsoWorld(home, sso)
    world.add_config("[profile broken]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n\n[profile plain]\nregion = eu-west-1\n")
    config = AwsConfig(world.env)
    assert sso_logout.profiles_of(config, world.settings("dev")) == ["dev", "dev-cli", "dev-admin"]
    assert sso_logout.profiles_of(config, world.settings("legacy")) == ["legacy"]
