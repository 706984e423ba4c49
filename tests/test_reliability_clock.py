"""Clock: credentials are judged by their expiry with a margin (botocore's refresh window plus ours), and a
request STS refuses for clock skew says that the clock is the problem, whichever way it is off."""

import pytest

from reliakit import entry_path, one_line, run, served, set_remaining
from stsenv.credentials import FRESH_FOR


@pytest.mark.parametrize("offset, words", [(900, "Signature expired"), (-900, "Signature not yet current")])
def test_clock_skew_refused_by_sts_is_explained(world, home, sts, offset, words):
    sts.clock_offset = offset  # STS's clock is 15 minutes ahead of, or behind, this machine's
    message = one_line(run(home, "serve", "prod"), 1)
    assert f"SignatureDoesNotMatch: {words}" in message
    assert "this machine's clock is off: sync it" in message
    assert sts.calls("AssumeRole") == 1, "a clock error is not retried"


@pytest.mark.parametrize("offset", [240, -240])
def test_skew_within_five_minutes_works(world, home, sts, offset):
    sts.clock_offset = offset
    assert served(run(home, "serve", "prod"))["AccessKeyId"].startswith("ASIA")


def test_valid_entry_is_served_while_sts_clock_is_off(world, home, sts):
    """A warm cache does not depend on STS's clock; the skew only shows when a refresh is needed."""
    first = served(run(home, "serve", "prod"))
    sts.clock_offset = 3600
    assert served(run(home, "serve", "prod")) == first
    set_remaining(entry_path(home), 600)
    result = run(home, "serve", "prod")
    assert served(result)["AccessKeyId"] == first["AccessKeyId"]
    assert "this machine's clock is off" in result.stderr and "still using the cached credentials" in result.stderr


@pytest.mark.parametrize("remaining, refreshed", [(FRESH_FOR + 60, False), (FRESH_FOR - 60, True), (901, True), (30, True), (-1, True)])
def test_entries_are_judged_by_expiry_with_a_margin(world, home, sts, remaining, refreshed):
    first = served(run(home, "serve", "prod"))
    set_remaining(entry_path(home), remaining)
    sts.reset_calls()
    second = served(run(home, "serve", "prod"))
    assert (second["AccessKeyId"] != first["AccessKeyId"]) == refreshed
    assert sts.calls("AssumeRole") == int(refreshed)


@pytest.mark.parametrize("remaining, refreshed", [(300, False), (240, False), (200, True)])
def test_short_role_is_used_until_its_last_quarter(world, home, sts, remaining, refreshed):
    """duration_seconds = 900 leaves no room above botocore's window: handed out down to 225 s left."""
    home.write_config(home.config.read_text() + f"\n[profile short]\nrole_arn = {world.role_arn}\nsource_profile = base\nduration_seconds = 900\n")
    first = served(run(home, "serve", "short"))
    set_remaining(entry_path(home, "short"), remaining)
    second = served(run(home, "serve", "short"))
    assert (second["AccessKeyId"] != first["AccessKeyId"]) == refreshed
