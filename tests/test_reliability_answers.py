"""STS answers (and another tool's credential_process output) are checked before anything is cached, printed
or used to sign: a lying endpoint gets one line naming the field and exit 1, never credentials the SDK then
refuses, never `internal error` (70). An expiry further ahead than asked for is capped, so what is written
is what the cache reader accepts."""

import datetime as dt
import json
import shutil
import sys
import time
import uuid
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from localsts import ACCOUNT_ID
from reliakit import one_line, run, served
from stsenv import answers, redact, sts as stsmodule
from stsenv.cache import latest_expiry
from stsenv.errors import AwsError

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE_USER_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Admin/s"


def iso(seconds_from_now, zone="Z"):
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone


def reply(sts, action="AssumeRole", arn=ROLE_USER_ARN, **fields):
    """A `action` answer with `fields` changed (None leaves one out) and the user's ARN replaced."""
    return sts.credentials_reply(action, **fields).replace(ROLE_USER_ARN, escape(arn))


def assert_refused(result, words, action="AssumeRole"):
    line = one_line(result, 1)
    assert line.startswith(f"stsenv: {action}: the answer's "), line[:300]
    assert words in line, line[:300]
    assert len(line) < 600
    return line


# (fields changed in the answer, the words of the one line)
ODD_CREDENTIALS = {
    "no SessionToken": ({"SessionToken": None}, "SessionToken is missing"),
    "empty AccessKeyId": ({"AccessKeyId": ""}, "AccessKeyId is empty"),
    "Expiration in the past": ({"Expiration": iso(-3600)}, "Expiration is in the past ("),
    "Expiration not a date": ({"Expiration": "soon"}, "Expiration 'soon' is not a date"),
    "Expiration out of any calendar": ({"Expiration": "99999999999999"}, "Expiration '99999999999999' is not a date"),
    "Expiration an enormous epoch": ({"Expiration": "1e300"}, "Expiration '1e300' is not a date"),
    "no Expiration": ({"Expiration": None}, "Expiration is missing"),
    "no SecretAccessKey": ({"SecretAccessKey": None}, "SecretAccessKey is missing"),
    "empty SecretAccessKey": ({"SecretAccessKey": ""}, "SecretAccessKey is empty"),
    "5 MB SessionToken": ({"SessionToken": "t" * 5_000_000}, "SessionToken has 5000000 characters; it has 16 to 65536"),
    "1 MB AccessKeyId": ({"AccessKeyId": "A" * 1_000_000}, "AccessKeyId has 1000000 characters"),
    "newline in SecretAccessKey": ({"SecretAccessKey": "s" * 20 + "\n" + "s" * 20}, "SecretAccessKey holds characters no credential has"),
    "NEL and CSI in AccessKeyId": ({"AccessKeyId": "ASIA\x85\x9b31m" + "Q" * 16}, "AccessKeyId holds characters no credential has"),
    "spaces in SessionToken": ({"SessionToken": "t" * 20 + " $(id) " + "t" * 20}, "SessionToken holds characters no credential has"),
}
ODD_ARNS = {
    "line separator and CSI in the ARN": (ROLE_USER_ARN + "\u2028\x9b31m@stsenv-exit:0", "is not an ARN"),
    "shell code in the ARN": (ROLE_USER_ARN + "$(touch /tmp/x)", "is not an ARN"),
    "5 MB ARN": ("arn:" + "a" * 5_000_000, "Arn has 5000004 characters; an ARN has at most 2048"),
    "not an ARN": ("Admin", "Arn 'Admin' is not an ARN"),
    "an account that is no account": ("arn:aws:sts::12345:assumed-role/Admin/s", "is not an ARN"),
}
NOT_STS = {
    "not XML": "this is not XML at all",
    "empty": "",
    "a 200 with an error body": f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Code>AccessDenied</Code><Message>no\n@stsenv-exit:0</Message></Error></ErrorResponse>',
    "another operation's answer": f'<GetCallerIdentityResponse xmlns="{NAMESPACE}"><GetCallerIdentityResult><Arn>x</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>',
}
COMMANDS = {"serve": ["serve", "prod"], "use": ["use", "prod", "--non-interactive"]}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(ODD_CREDENTIALS))
def test_odd_credentials_from_assume_role_are_one_line_naming_the_field(world, home, sts, case, command):
    fields, words = ODD_CREDENTIALS[case]
    sts.inject_reply("AssumeRole", reply(sts, **fields))
    result = run(home, *COMMANDS[command])
    line = assert_refused(result, words)
    for value in fields.values():
        if value and len(value) > 8 and "Expiration" not in fields:
            assert value not in line, "a field's value is never shown: it may be a secret"
    assert list(home.cache.glob("*.json")) == [], "nothing is cached"
    assert sts.calls() == 1, "nothing else is called"


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(ODD_ARNS))
def test_odd_arns_never_reach_the_prompt(world, home, sts, case, command):
    arn, words = ODD_ARNS[case]
    sts.inject_reply("AssumeRole", reply(sts, arn=arn))
    assert_refused(run(home, *COMMANDS[command]), words)
    assert list(home.cache.glob("*.json")) == []


@pytest.mark.parametrize("case", list(NOT_STS))
def test_answers_that_are_not_sts_are_one_line(world, home, sts, case):
    sts.inject_reply("AssumeRole", NOT_STS[case])
    line = one_line(run(home, "serve", "prod"), 1)
    assert line.startswith("stsenv: AssumeRole: STS at http://127.0.0.1:") and "sent a response that is not STS XML" in line
    assert list(home.cache.glob("*.json")) == []


def test_an_answer_without_credentials_names_them(world, home, sts):
    body = reply(sts)
    start, end = body.index("<Credentials>"), body.index("</Credentials>") + len("</Credentials>")
    sts.inject_reply("AssumeRole", body[:start] + body[end:])
    assert_refused(run(home, "serve", "prod"), "Credentials is missing")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_expiry_years_ahead_is_capped_to_the_duration_asked_and_then_read_warm(world, home, sts, command):
    sts.inject_reply("AssumeRole", reply(sts, Expiration=iso(3 * 365 * 86400)))
    started = time.time()
    first = run(home, "--debug", *COMMANDS[command][:2], "--format", "json") if command == "use" else run(home, "--debug", "serve", "prod")
    assert first.returncode == 0, first.stderr
    output = json.loads(first.stdout)
    expiration = output.get("Expiration") or output["AWS_CREDENTIAL_EXPIRATION"]
    expires = dt.datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
    assert started + 3600 - 5 <= expires <= time.time() + 3600, "capped to the 3600 s asked for"
    assert "further than the 3600s asked for; using" in first.stderr
    again = run(home, *COMMANDS[command][:2], *(["--format", "json"] if command == "use" else []))
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert again.stdout == first.stdout
    assert sts.calls("AssumeRole") == 1, "what was written is what the reader accepts: no second call"


def test_expiry_without_a_zone_is_read_as_utc(world, home, sts):
    sts.inject_reply("AssumeRole", reply(sts, Expiration=iso(1800, zone="")))
    output = served(run(home, "serve", "prod"))
    assert abs(dt.datetime.fromisoformat(output["Expiration"].replace("Z", "+00:00")).timestamp() - (time.time() + 1800)) < 10


def test_a_sound_custom_answer_is_served(world, home, sts):
    """The control case: the answers these tests build are otherwise what STS sends."""
    sts.inject_reply("AssumeRole", reply(sts))
    output = served(run(home, "serve", "prod"))
    assert output["AccessKeyId"] == "ASIA" + "Q" * 16
    assert run(home, "use", "prod", "--format", "json").stdout.count('"STSENV_IDENTITY": "Admin@123456789012"') == 1


# ---- the MFA session: GetSessionToken, and GetCallerIdentity that names it ----------------------------


@pytest.fixture
def guarded(home, sts):
    """bob's keys with an MFA device under [base]; role `guarded` asks for MFA, so its chain opens a session."""
    bob = sts.create_user("bob")
    serial, secret = sts.create_virtual_mfa("bob")
    role = sts.create_role("Guarded", require_mfa=True)
    home.write_credentials(f"[base]\naws_access_key_id = {bob['access_key_id']}\naws_secret_access_key = {bob['secret_access_key']}\n")
    home.write_config(f"[profile base]\nmfa_serial = {serial}\n[profile guarded]\nrole_arn = {role}\nsource_profile = base\n")
    import pyotp

    return lambda: pyotp.TOTP(secret).now()


SESSION_CASES = {name: ODD_CREDENTIALS[name] for name in ("no SessionToken", "empty AccessKeyId", "Expiration in the past", "Expiration not a date", "no SecretAccessKey")}


@pytest.mark.parametrize("case", list(SESSION_CASES))
def test_odd_mfa_session_answers_are_one_line_and_nothing_else_is_called(guarded, home, sts, case):
    fields, words = SESSION_CASES[case]
    sts.inject_reply("GetSessionToken", reply(sts, "GetSessionToken", **fields))
    assert_refused(run(home, "use", "guarded", "--token-code", guarded()), words, "GetSessionToken")
    assert sts.calls("GetCallerIdentity") == 0 and sts.calls("AssumeRole") == 0
    assert list(home.cache.glob("*.json")) == []


def identity_reply(arn, account=ACCOUNT_ID, user_id="AIDAEXAMPLE"):
    parts = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in (("Arn", arn), ("UserId", user_id), ("Account", account)) if value is not None)
    return (
        f'<GetCallerIdentityResponse xmlns="{NAMESPACE}"><GetCallerIdentityResult>{parts}</GetCallerIdentityResult>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    )


IDENTITY_CASES = {
    "escapes in the Arn": (identity_reply("arn:aws:iam::123456789012:user/bob\x9b2J\u2028"), "Arn 'arn:aws:iam::123456789012:user/bob\\x9b2J\\u2028' is not an ARN"),
    "no Arn": (identity_reply(None), "Arn is missing"),
    "5 MB Arn": (identity_reply("arn:" + "b" * 5_000_000), "Arn has 5000004 characters"),
    "no Account": (identity_reply("arn:aws:iam::123456789012:user/bob", account=None), "Account is not a 12-digit account id"),
    "an Account of words": (identity_reply("arn:aws:iam::123456789012:user/bob", account="$(id)"), "Account is not a 12-digit account id"),
}


@pytest.mark.parametrize("case", list(IDENTITY_CASES))
def test_odd_caller_identity_of_the_mfa_session_is_one_line(guarded, home, sts, case):
    body, words = IDENTITY_CASES[case]
    sts.inject_reply("GetCallerIdentity", body)
    assert_refused(run(home, "use", "guarded", "--token-code", guarded()), words, "GetCallerIdentity")
    assert sts.calls("AssumeRole") == 0
    assert list(home.cache.glob("*.json")) == [], "the session is not cached either"


def test_a_sound_custom_caller_identity_is_used(guarded, home, sts):
    sts.inject_reply("GetCallerIdentity", identity_reply("arn:aws:iam::123456789012:user/bob"))
    result = run(home, "use", "guarded", "--token-code", guarded(), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert sts.calls("AssumeRole") == 1


# ---- another tool's credential_process -----------------------------------------------------------------


def tool_printing(tmp_path, text):
    script = tmp_path / "tool.py"
    script.write_text(f"import sys\nsys.stdout.write({text!r})\n")
    return f"{sys.executable} {script}"


def process_cases(alice):
    good = {"Version": 1, "AccessKeyId": alice["access_key_id"], "SecretAccessKey": alice["secret_access_key"]}
    return {
        "empty AccessKeyId": ({**good, "AccessKeyId": ""}, "AccessKeyId is empty"),
        "no SecretAccessKey": ({key: value for key, value in good.items() if key != "SecretAccessKey"}, "SecretAccessKey is missing"),
        "Expiration in the past": ({**good, "SessionToken": "t" * 40, "Expiration": iso(-60)}, "Expiration is in the past"),
        "Expiration not a date": ({**good, "SessionToken": "t" * 40, "Expiration": "tomorrow"}, "Expiration 'tomorrow' is not a date"),
        "newline in AccessKeyId": ({**good, "AccessKeyId": "AKIA\n@stsenv-exit:0\nAAAAAAAAAAAA"}, "AccessKeyId holds characters no credential has"),
        "AccessKeyId a number": ({**good, "AccessKeyId": 12345678901234567890}, "AccessKeyId is not text"),
        "100 000 character SessionToken": ({**good, "SessionToken": "t" * 100_000}, "SessionToken has 100000 characters"),
    }


CASE_NAMES = ["empty AccessKeyId", "no SecretAccessKey", "Expiration in the past", "Expiration not a date", "newline in AccessKeyId", "AccessKeyId a number", "100 000 character SessionToken"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_odd_credential_process_output_is_one_line_naming_the_field(world, home, sts, tmp_path, case):
    data, words = process_cases(world.alice)[case]
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {tool_printing(tmp_path, json.dumps(data))}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    line = one_line(run(home, "serve", "via-tool"), 1)
    assert line.startswith("stsenv: the credential_process of profile 'vaulted': the answer's ") and words in line, line[:300]
    assert world.alice["secret_access_key"] not in line
    assert sts.calls() == 0 and list(home.cache.glob("*.json")) == []


@pytest.mark.parametrize("text, words", [('{"Version": 2}', 'without "Version": 1'), ("[1, 2]", 'without "Version": 1'), ("[" * 100_000, "is not JSON")])
def test_credential_process_output_that_is_not_version_1_json(world, home, sts, tmp_path, text, words):
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {tool_printing(tmp_path, text)}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    assert words in one_line(run(home, "serve", "via-tool"), 1)


def test_long_lived_keys_from_a_credential_process_may_have_an_empty_token(world, home, sts, tmp_path):
    data = {"Version": 1, "AccessKeyId": world.alice["access_key_id"], "SecretAccessKey": world.alice["secret_access_key"], "SessionToken": ""}
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {tool_printing(tmp_path, json.dumps(data))}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    assert served(run(home, "serve", "via-tool"))["AccessKeyId"].startswith("ASIA")


# ---- fuzzing the answer ------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
PLAUSIBLE = {"AccessKeyId": "ASIA" + "Q" * 16, "SecretAccessKey": "s" * 40, "SessionToken": "t" * 200}


def _value(field):
    """Mostly the plausible value, so that whole answers are often enough sound and get cached."""
    odd = st.one_of(
        st.none(),
        st.just(""),
        ANY_TEXT,
        st.sampled_from([15, 16, 128, 129, 1025, 70_000]).map(lambda n: "K" * n),
        ANY_TEXT.map(lambda text: PLAUSIBLE[field] + text),
    )
    return st.one_of(st.just(PLAUSIBLE[field]), st.just(PLAUSIBLE[field]), odd)


EXPIRATIONS = st.one_of(
    st.integers(min_value=1300, max_value=200_000).map(iso),
    st.none(),
    st.just(""),
    ANY_TEXT,
    st.integers(min_value=-10**6, max_value=10**9).map(iso),
    st.integers(min_value=-10**6, max_value=10**9).map(lambda seconds: iso(seconds, zone="")),
    st.integers(min_value=-10**6, max_value=10**6).map(lambda seconds: iso(seconds, zone="+05:00")),
    st.sampled_from(["0", "1e300", "-1", "99999999999999", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2030-02-30T00:00:00Z", "nan", "inf"]),
    st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda moment: moment.isoformat()),
)
ARNS = st.one_of(st.just(ROLE_USER_ARN), st.one_of(ANY_TEXT, ANY_TEXT.map(lambda text: ROLE_USER_ARN + text)))
STRUCTURED = st.builds(
    lambda action_fields, expiration, arn: (action_fields, expiration, arn),
    st.fixed_dictionaries({field: _value(field) for field in PLAUSIBLE}),
    EXPIRATIONS,
    ARNS,
)


def structured_body(sts_server, spec):
    fields, expiration, arn = spec
    return sts_server.credentials_reply("AssumeRole", **fields, Expiration=expiration).replace(ROLE_USER_ARN, escape(arn))


def mangled(spec_and_cut):
    """A well-formed answer with a slice cut out or replaced (an answer cut short, an element lost)."""
    body, start, length, filler = spec_and_cut
    start %= len(body) + 1
    return body[:start] + filler + body[start + length :]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    body=st.one_of(
        STRUCTURED.map(lambda spec: ("structured", spec)),
        st.binary(max_size=400).map(lambda raw: ("bytes", raw)),
        st.text(max_size=400).map(lambda text: ("text", text)),
        st.tuples(st.integers(0, 2000), st.integers(0, 200), st.sampled_from(["", "<", "</Credentials>", "&", "<Credentials>", "\x00"])).map(lambda cut: ("mangled", cut)),
    ),
    status=st.sampled_from([200, 200, 200, 400, 403]),
)
@example(body=("structured", ({**PLAUSIBLE}, iso(3 * 365 * 86400), ROLE_USER_ARN)), status=200)
@example(body=("structured", ({**PLAUSIBLE, "SessionToken": None}, iso(3600), ROLE_USER_ARN)), status=200)
@example(body=("bytes", b"\xff\xfe<\x00"), status=200)
def test_fuzzed_sts_answers_never_reach_an_internal_error(world, home, sts, body, status):
    kind, spec = body
    if kind == "structured":
        payload = structured_body(sts, spec)
    elif kind == "mangled":
        payload = mangled((sts.credentials_reply("AssumeRole"), *spec))
    else:
        payload = spec
    shutil.rmtree(home.cache, ignore_errors=True)
    sts.clear_faults()
    sts.reset_calls()
    sts.inject_reply("AssumeRole", payload, status=status, times=5)
    result = run(home, "serve", "prod")
    sts.clear_faults()
    event(f"exit {result.returncode}")
    assert result.returncode in (0, 1), (result.returncode, result.stderr[:500])
    for line in result.stderr.splitlines():
        assert line.startswith("stsenv: ") and line.isprintable(), line[:500]
    assert len(result.stderr.splitlines()) == (result.returncode != 0)
    if result.returncode != 0:
        assert result.stdout == "" and list(home.cache.glob("*.json")) == []
        return
    output = json.loads(result.stdout)
    assert all(output[field].isascii() and output[field].isprintable() for field in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
    again = run(home, "serve", "prod")
    assert again.returncode == 0 and again.stderr == "", "what was written, the reader accepts: " + again.stderr[:300]


# ---- the checker alone, many more examples ---------------------------------------------------------------

VALUES = st.one_of(
    st.none(),
    ANY_TEXT,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=14)), dt.timezone(dt.timedelta(hours=-12))])),
    st.sampled_from(list(PLAUSIBLE.values()) + [iso(3600), iso(-5), iso(10**8)]),
)


@settings(max_examples=2000, deadline=None)
@given(
    fields=st.one_of(
        st.fixed_dictionaries({**{field: _value(field) for field in PLAUSIBLE}, "Expiration": st.one_of(EXPIRATIONS, st.datetimes())}),
        st.dictionaries(st.sampled_from(["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "Other"]), VALUES),
        VALUES,
    ),
    duration=st.one_of(st.none(), st.integers(min_value=900, max_value=129600)),
    arn=st.one_of(st.none(), ANY_TEXT, st.just(ROLE_USER_ARN)),
    long_lived=st.booleans(),
)
@example(fields={**PLAUSIBLE, "Expiration": iso(3600)}, duration=3600, arn=ROLE_USER_ARN, long_lived=False)
@example(fields={**PLAUSIBLE, "Expiration": dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)}, duration=900, arn=None, long_lived=False)
@example(fields={"AccessKeyId": PLAUSIBLE["AccessKeyId"], "SecretAccessKey": PLAUSIBLE["SecretAccessKey"]}, duration=None, arn=None, long_lived=True)
def test_the_answer_checker_returns_sound_credentials_or_one_line(fields, duration, arn, long_lived):
    remembered = set(redact._secrets)  # Credentials remember their secrets for scrubbing: leave none behind
    try:
        credentials = answers.credentials(fields, "AssumeRole", duration=duration, arn=arn or None, long_lived_allowed=long_lived)
    except AwsError as error:
        event("refused")
        assert error.exit_code == 1
        assert str(error).isprintable() and len(str(error)) < 1000
        return
    finally:
        redact._secrets.intersection_update(remembered)
    event("accepted")
    for value in (credentials.access_key_id, credentials.secret_access_key, credentials.session_token, credentials.arn):
        assert value is None or (value.isascii() and value.isprintable() and " " not in value)
    if credentials.expiry_epoch is not None:
        now = time.time()
        assert credentials.expiry_epoch > now - 5
        if duration is not None:
            assert credentials.expiry_epoch <= latest_expiry(now, duration), "never more than the cache reader accepts"
    elif not long_lived:
        raise AssertionError("STS credentials always expire")


@settings(max_examples=1000, deadline=None)
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode), STRUCTURED.map(lambda spec: spec)), status=st.sampled_from([200, 400]))
def test_botocore_parse_and_the_checker_never_raise_anything_else(sts_server, body, status):
    """Through botocore's own parser (stsenv's factory): parsed, or ResponseParserError; then credentials
    or one AwsError. A fresh parser per example, as stsenv makes one per client."""
    from botocore.parsers import ResponseParserError

    if isinstance(body, tuple):
        body = structured_body(sts_server, body).encode("utf-8", "surrogatepass")
    parser = stsmodule._ParserFactory().create_parser("query")
    try:
        parsed = parser.parse({"body": body, "headers": {}, "status_code": status}, assume_role_output())
    except ResponseParserError:
        return
    if status != 200:
        return
    remembered = set(redact._secrets)
    try:
        stsmodule.credentials_from(parsed, "assume_role", 3600)
    except AwsError as error:
        assert str(error).isprintable()
    finally:
        redact._secrets.intersection_update(remembered)


_shapes = {}


def assume_role_output():
    if not _shapes:
        import botocore.session

        _shapes["AssumeRole"] = botocore.session.get_session().get_service_model("sts").operation_model("AssumeRole").output_shape
    return _shapes["AssumeRole"]
