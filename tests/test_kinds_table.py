"""The table of kinds (stsenv.kinds) holds together: every row has a provider that can fetch, every kind a
profile can name has a builder, durations are within what AWS grants, and a kind's name is written nowhere
but its row and its provider (adding a kind is one row, one provider, one builder)."""

import importlib
import inspect
import pathlib

import pytest

from stsenv import kinds, resolution, validate
from stsenv.source import Source

PACKAGE = pathlib.Path(kinds.__file__).parent
# AWS's limits: GetSessionToken and GetFederationToken up to 36 hours, a role session up to 12 hours.
AWS_LONGEST = 129600
AWS_LONGEST_ROLE_SESSION = 43200


def test_names_and_labels_are_unique():
    assert len({kind.name for kind in kinds.KINDS}) == len(kinds.KINDS)
    assert len({kind.label for kind in kinds.KINDS}) == len(kinds.KINDS)


def test_the_named_and_own_kinds_are_rows_of_the_table():
    assert set(kinds.NAMED_KINDS) | set(kinds.OWN_CREDENTIALS) | {kinds.ENVIRONMENT, kinds.MFA_SESSION} == set(kinds.KINDS)
    assert not set(kinds.NAMED_KINDS) & set(kinds.OWN_CREDENTIALS)


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda kind: kind.name)
def test_every_kind_has_a_provider_module_that_fetches(kind):
    module = importlib.import_module(f"stsenv.providers.{kind.provider}")
    assert list(inspect.signature(module.fetch).parameters) == ["source", "signer", "options"]


def test_every_provider_module_serves_a_kind():
    helpers = {"__init__", "session_parameters"}  # the dispatcher, and the parameters several providers send
    modules = {path.stem for path in (PACKAGE / "providers").glob("*.py")} - helpers
    assert modules == {kind.provider for kind in kinds.KINDS}


def test_every_kind_a_profile_names_has_exactly_one_builder():
    assert set(resolution._BUILDERS) == set(kinds.NAMED_KINDS)
    for kind in kinds.NAMED_KINDS:
        assert kind.markers, kind  # how else would a profile name it


def test_the_settings_of_named_kinds_mark_one_kind_each():
    """A marker of one kind is another's only when that kind uses it beside its own markers (web identity's role_arn)."""
    for kind in kinds.NAMED_KINDS:
        for other in kinds.NAMED_KINDS:
            if other is not kind:
                assert set(kind.markers) & set(other.markers) <= set(other.uses) | set(kind.uses), (kind, other)
    markers = {key for kind in kinds.KINDS for key in kind.markers}
    assert markers | {"source_profile", "credential_source"} == set(kinds.CREDENTIAL_SETTINGS)


@pytest.mark.parametrize("kind", [kind for kind in kinds.KINDS if kind.durations], ids=lambda kind: kind.name)
def test_durations_are_within_what_aws_grants(kind):
    low, high = kind.durations
    assert 0 <= low <= kind.default_duration <= high <= AWS_LONGEST
    if kind.role_session:
        assert high <= AWS_LONGEST_ROLE_SESSION and kinds.ROLE_CHAINING_LIMIT <= high
    assert kind.api and kind.cached
    node = Source(kind, "p", {"duration": low})
    assert validate.duration(low, node) is None and validate.duration(high, node) is None
    assert validate.duration(low - 1, node) and validate.duration(high + 1, node)


def test_kinds_without_an_sts_call_are_long_lived_and_never_cached():
    for kind in kinds.KINDS:
        if kind.api is None:
            assert (kind.durations, kind.default_duration, kind.cached, kind.role_session) == (None, None, False, False), kind
    assert {kind.name for kind in kinds.KINDS if not kind.cached} == {"static", "environment", "process"}


def test_the_longest_grant_and_the_role_chaining_limit():
    assert kinds.LONGEST_GRANT == AWS_LONGEST
    assert kinds.ROLE_CHAINING_LIMIT == 3600
    role_sessions = {"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetRoleCredentials"}  # the last: a permission set's role
    assert {kind.api for kind in kinds.KINDS if kind.role_session} == role_sessions


# Files where a kind's name is also the name of something else: the `stsenv sso` command, botocore's service id
# of IAM Identity Center's access portal (its client, its endpoint settings) and the aws CLI's ~/.aws/sso.
SAME_WORD_ELSEWHERE = {"sso": {"cli.py", "commands/sso.py", "sso/clients.py", "sso/settings.py", "sso/token_cache.py"}}


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda kind: kind.name)
def test_a_kinds_name_is_written_only_in_its_row_and_its_provider(kind):
    """Code reads the row (`source.kind is kinds.SAML`), never compares names: renaming would split the cache."""
    allowed = {PACKAGE / "kinds.py", PACKAGE / "providers" / f"{kind.provider}.py"}
    allowed |= {PACKAGE / path for path in SAME_WORD_ELSEWHERE.get(kind.name, ())}
    quoted = (f'"{kind.name}"', f"'{kind.name}'")
    found = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if path not in allowed and any(q in path.read_text() for q in quoted)]
    assert found == []
