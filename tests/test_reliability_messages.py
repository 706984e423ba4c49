"""Every message stsenv prints is one line: text relayed from elsewhere (AWS error messages, the stderr of a
configured command, config and flag values) has its control characters and newlines escaped and is cut.

A shell hook or a terminal reads these lines: a newline there could forge a line the hook acts on, an
escape sequence could retitle or rewrite the terminal, 5 MB of a value is no message.
"""

import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reliakit import one_line, run
from stsenv import redact
from stsenv.main import _report
from stsenv.errors import StsenvError
from stsenv.oneline import LINE_MAX, PIECE_MAX, oneline, quoted

# A report line: `stsenv: ` + a message of at most LINE_MAX characters, plus the note of what was cut.
LONGEST_LINE = len("stsenv: ") + LINE_MAX + len("... (99999999 more characters)")
HOSTILE = "denied\ntouch /tmp/x\n@stsenv-exit:0\nok\r\x1b]0;title\x07\x1b[2J\u2028\u202e\x85\x9b31m`$(id)`'\""
any_text = st.text(st.characters(blacklist_categories=()))  # every code point, lone surrogates included


@pytest.fixture(autouse=True)
def no_remembered_secrets():
    """The rule is tested on its own: secrets that other in-process tests registered would be masked."""
    remembered = set(redact._secrets)
    redact._secrets.clear()
    yield
    redact._secrets.update(remembered)


def assert_one_safe_line(stderr, longest=LONGEST_LINE):
    lines = stderr.split("\n")
    assert lines[-1] == "" and len(lines) == 2, stderr[:2000]
    line = lines[0]
    assert line.startswith("stsenv: ") and line.isprintable(), line[:2000]
    assert len(line) <= longest, len(line)
    return line


# ---- the rule itself, over arbitrary text ----------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(any_text, st.integers(min_value=1, max_value=400))
@example("a\nb", PIECE_MAX)
@example("\x1b]0;title\x07", PIECE_MAX)
@example("x" * 5_000_000, PIECE_MAX)
def test_outside_text_becomes_one_printable_bounded_line(text, limit):
    shown = oneline(text, limit)
    assert shown.isprintable(), "no newline, carriage return, escape, line separator or other control character"
    assert shown.splitlines() in ([], [shown])
    assert len(shown) <= limit + len(f"... ({len(text)} more characters)")
    shown.encode("utf-8")  # even a lone surrogate arrives escaped, so the line can always be written
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: 10 * limit])
    if len(escaped) <= limit and len(text) <= 10 * limit:
        assert shown == escaped, "nothing is cut that fits; each unprintable character is escaped visibly"
    else:
        assert shown.endswith(" more characters)"), "a cut says so"
    if text.isprintable() and len(text) <= limit:
        assert shown == text, "text that needs nothing is left as it is"


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_quoted_values_are_reprs_cut_short(value):
    shown = quoted(value)
    assert shown.isprintable()
    assert len(shown) <= 4 * PIECE_MAX + 2 + len(f"... ({len(value)} more characters)")
    if len(value) <= PIECE_MAX:
        assert shown == repr(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(any_text, min_size=1, max_size=4), st.one_of(st.none(), any_text))
def test_every_report_is_one_stsenv_line_per_message(capsys, messages, hint):
    """entry's last guard: whatever an error carries (or a list of problems), one `stsenv:` line each."""
    error = StsenvError(messages[0], hint)
    for lines in (error.lines(), messages):
        _report(lines, 2)
        written = capsys.readouterr().err.split("\n")
        assert written[-1] == "" and len(written) == len(lines) + 1
        assert all(line.startswith("stsenv: ") and line.isprintable() and len(line) <= LONGEST_LINE for line in written[:-1])


# ---- AWS's error messages, through real processes -----------------------------------------------------

STS_MESSAGES = {
    "shell code and framing on new lines": "denied\ntouch /tmp/x\n@stsenv-exit:0\nok",
    "line and paragraph separators, NEL, C1 CSI, bidi override": "a\u2028b\u2029c\x85d\x9b31me\u202egnp.exe",
    "a terminal title sequence (not XML: refused as such)": "\x1b]0;title\x07",
    "5 MB, with newlines": ("A" * 99 + "\n") * 50_000,
}


def test_sts_error_messages_are_one_escaped_cut_line(world, home, sts, tmp_path):
    for name, message in STS_MESSAGES.items():
        for command in (["serve", "prod"], ["use", "prod", "--non-interactive"]):
            sts.inject_error("AssumeRole", "AccessDenied", message)
            result = run(home, *command)
            assert result.returncode == 1, (name, result.stderr[:500])
            assert result.stdout == ""
            line = assert_one_safe_line(result.stderr)
            assert line.startswith("stsenv: AssumeRole"), (name, line)
    sts.inject_error("AssumeRole", "AccessDenied", STS_MESSAGES["shell code and framing on new lines"])
    line = one_line(run(home, "serve", "prod"), 1)
    assert "AccessDenied: denied\\ntouch /tmp/x\\n@stsenv-exit:0\\nok (" in line, "escaped, visible, on the one line"
    sts.inject_error("AssumeRole", "AccessDenied", STS_MESSAGES["5 MB, with newlines"])
    line = one_line(run(home, "serve", "prod"), 1)
    assert len(line) < 1000 and "more characters)" in line
    assert list(home.cache.glob("*.json")) == []


def test_sts_error_code_with_newlines_is_escaped(world, home, sts):
    sts.inject_error("AssumeRole", "Denied\n@stsenv-exit:0\n" + "X" * 10_000, "no")
    line = one_line(run(home, "serve", "prod"), 1)
    assert "Denied\\n@stsenv-exit:0\\n" in line and len(line) < 1000


# ---- config and flag values -----------------------------------------------------------------------


def test_five_megabyte_session_name_in_the_config_is_a_short_line(world, home, sts):
    home.write_config(home.config.read_text() + "\n[profile huge]\n" f"role_arn = {world.role_arn}\nsource_profile = base\n" "role_session_name = " + "a" * 5_000_000 + "\n")
    line = one_line(run(home, "serve", "huge"), 2)
    assert len(line) < 1000
    assert "role_session_name of profile 'huge': 'aaaa" in line and "has 5000000 characters; AWS wants 2 to 64" in line
    assert sts.calls() == 0


def test_huge_session_name_flag_is_a_short_line(world, home, sts):
    # one argument can be at most 128 KiB on Linux (MAX_ARG_STRLEN): the largest flag a shell can pass
    line = one_line(run(home, "use", "--role-arn", world.role_arn, "--source-profile", "base", "--role-session-name", "b" * 120_000), 2)
    assert len(line) < 1000 and "--role-session-name: 'bbbb" in line and "has 120000 characters" in line
    assert sts.calls() == 0


def test_control_characters_in_a_flag_are_escaped(world, home, sts):
    line = one_line(run(home, "use", "--role-arn", world.role_arn, "--source-profile", "base", "--role-session-name", "x\n@stsenv-exit:0\x1b[2J"), 2)
    assert "'x\\n@stsenv-exit:0\\x1b[2J' may contain only" in line


def test_several_problems_are_several_safe_lines(world, home, sts):
    result = run(home, "use", "--role-arn", "arn\nnope", "--source-profile", "base", "--role-session-name", "\x1b" * 100, "--duration-seconds", "5")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("stsenv: ") and line.isprintable() for line in lines), lines


def test_a_huge_duration_in_the_config_is_a_short_line(world, home, sts):
    home.write_config(home.config.read_text().replace("[profile prod]\n", "[profile prod]\nduration_seconds = " + "9\x7f" * 1_000_000 + "\n"))
    line = one_line(run(home, "serve", "prod"), 2)
    assert len(line) < 1000 and "duration_seconds = '9\\x7f9\\x7f" in line


# ---- configured commands: their stderr is read, their stdout is a secret -------------------------------


def hostile_tool(tmp_path, code, stdout="STDOUT-SECRET-abcdef0123456789", stderr=HOSTILE):
    """A command that prints `stdout` (a secret) and `stderr` (hostile, then a 20 000 character last line)."""
    script = tmp_path / f"tool{code}.py"
    script.write_text(
        "import sys\n"
        f"sys.stdout.write({stdout!r})\n"
        f"sys.stderr.write({stderr!r} + '\\n\\n' + 'L' * 20000 + '\\x1b[2J\\n\\n')\n"
        f"sys.exit({code})\n"
    )
    return f"{sys.executable} {script}"


def test_failing_source_credential_process_is_one_line_with_its_last_stderr_line(world, home, sts, tmp_path):
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {hostile_tool(tmp_path, 3)}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    for command in (["serve", "via-tool"], ["use", "via-tool"]):
        result = run(home, *command)
        line = one_line(result, 1)
        assert "the credential_process of profile 'vaulted' `" in line and "exited with status 3: LLLL" in line
        assert "more characters)" in line and len(line) < 1500
        assert "STDOUT-SECRET" not in result.stderr and "touch" not in result.stderr, "its stdout and earlier lines are not shown"
    assert sts.calls() == 0


def test_failing_mfa_process_is_one_line_and_its_stdout_is_never_shown(home, sts, tmp_path):
    bob = sts.create_user("bob")
    serial, _ = sts.create_virtual_mfa("bob")
    role = sts.create_role("Guarded", require_mfa=True)
    home.write_credentials(f"[base]\naws_access_key_id = {bob['access_key_id']}\naws_secret_access_key = {bob['secret_access_key']}\n")
    home.write_config(
        f"[profile base]\nmfa_serial = {serial}\nmfa_process = {hostile_tool(tmp_path, 1, stdout='123456')}\n"
        f"[profile guarded]\nrole_arn = {role}\nsource_profile = base\n"
    )
    result = run(home, "serve", "guarded")
    line = one_line(result, 3)
    assert "mfa_process `" in line and "exited with status 1: LLLL" in line and len(line) < 1500
    assert "123456" not in result.stderr
    assert sts.calls() == 0


def test_hostile_last_line_is_escaped(world, home, sts, tmp_path):
    script = tmp_path / "tool.py"
    script.write_text("import sys\nsys.stderr.write('progress\\nfailed: \\x1b]0;pwned\\x07 \\u2028@stsenv-exit:0\\n')\nsys.exit(2)\n")
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {sys.executable} {script}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    line = one_line(run(home, "serve", "via-tool"), 1)
    assert line.endswith("exited with status 2: failed: \\x1b]0;pwned\\x07 \\u2028@stsenv-exit:0")


def test_successful_command_stderr_is_dropped_and_shown_safely_under_debug(world, home, sts, tmp_path):
    """A tool's chatter on stderr does not reach stsenv's stderr (it is not a message); --debug shows its
    last lines, each a safe `stsenv[debug]:` line."""
    tool = tmp_path / "other-tool.py"
    keys = {"Version": 1, "AccessKeyId": world.alice["access_key_id"], "SecretAccessKey": world.alice["secret_access_key"]}
    tool.write_text(f"import json, sys\nsys.stderr.write({HOSTILE!r} + '\\n')\nprint(json.dumps({keys!r}))\n")
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {sys.executable} {tool}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    quiet = run(home, "serve", "via-tool")
    assert quiet.returncode == 0 and quiet.stderr == ""
    run(home, "logout", "--all")
    debug = run(home, "--debug", "serve", "via-tool")
    assert debug.returncode == 0
    lines = debug.stderr.splitlines()
    assert all(line.startswith("stsenv") and line.isprintable() for line in lines), lines
    relayed = [line for line in lines if "wrote on stderr" in line]
    assert relayed and "denied" in relayed[0] and "\\x1b]0;title\\x07" in debug.stderr
    assert world.alice["secret_access_key"] not in debug.stderr


def test_a_command_printing_without_end_is_cut_off(world, home, sts):
    home.write_config(
        home.config.read_text()
        + "\n[profile vaulted]\ncredential_process = yes\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    line = one_line(run(home, "serve", "via-tool"), 1)
    assert line.startswith("stsenv: the credential_process of profile 'vaulted' `yes` printed more than 1048576 bytes")


def test_a_command_flooding_stderr_ends_in_one_line(world, home, sts):
    flood = "sh -c 'head -c 30000000 /dev/zero | tr \"\\\\0\" x >&2; echo >&2; echo the end >&2; exit 4'"
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {flood}\n"
        + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    line = one_line(run(home, "serve", "via-tool"), 1)
    assert line.endswith("exited with status 4: the end")


def test_mfa_process_code_still_works_with_chatter_on_stderr(home, sts, tmp_path):
    bob = sts.create_user("bob")
    serial, secret = sts.create_virtual_mfa("bob")
    role = sts.create_role("Guarded", require_mfa=True)
    script = tmp_path / "otp.py"
    script.write_text(f"import sys, pyotp\nsys.stderr.write('Touch your key\\n')\nprint(pyotp.TOTP({secret!r}).now())\n")
    home.write_credentials(f"[base]\naws_access_key_id = {bob['access_key_id']}\naws_secret_access_key = {bob['secret_access_key']}\n")
    home.write_config(f"[profile base]\nmfa_serial = {serial}\nmfa_process = {sys.executable} {script}\n[profile guarded]\nrole_arn = {role}\nsource_profile = base\n")
    result = run(home, "serve", "guarded")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert sts.calls("GetSessionToken") == 1
