"""`logout --sso` (stsenv.sso.logout): the portal session ended, the session's token file removed and named,
the client registration kept, as `aws sso logout` leaves it; and which profiles share the token."""

import json

from test_sso_login import registration_file
from test_sso_token import SsoWorld

from stsenv.config import AwsConfig
from stsenv.sso import logout as sso_logout
from stsenv.sso import settings as sso_settings


def test_logout_ends_the_session_and_removes_the_token_file_it_names(home, sso):
    world = SsoWorld(home, sso)
    token = world.write_token()
    registration = registration_file(home, sso.start_url, "us-east-1", ["sso:account:access"], "corp")
    registration.write_text(json.dumps({"clientId": token["clientId"], "clientSecret": token["clientSecret"], "expiresAt": token["registrationExpiresAt"]}))
    result = sso_logout.logout(world.settings(), world.env)
    assert result.path == str(world.token_path()) and result.removed and result.session_ended
    assert not world.token_path().exists() and registration.exists()
    assert sso.calls("Logout") == 1 and not sso.access_token_valid(token["accessToken"])
    again = sso_logout.logout(world.settings(), world.env)
    assert not again.removed and not again.session_ended and sso.calls("Logout") == 1


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
    home.write_config(
        home.config.read_text()
        + "\n[profile dev-admin]\nsso_session = corp\nstsenv_sso_account_id = 123456789012\nstsenv_sso_role_name = Admin\n"
        + "\n[profile broken]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n\n[profile plain]\nregion = eu-west-1\n"
    )
    config = AwsConfig(world.env)
    sessions = sso_settings.read_sessions(config.config_path)
    assert sso_logout.profiles_of(config, sessions, world.settings("dev")) == ["dev", "dev-admin"]
    assert sso_logout.profiles_of(config, sessions, world.settings("legacy")) == ["legacy"]
