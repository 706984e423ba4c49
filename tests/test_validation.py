"""Every limit AWS documents for STS, checked before any call: one `stsenv:` line per mistake, exit 2."""

import pytest

ROLE = "arn:aws:iam::123456789012:role/Admin"
AUDIT_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
USE_ROLE = ("use", "--role-arn", ROLE, "--source-profile", "base")
ASSUME_ROOT = ("use", "--assume-root", "--source-profile", "base", "--target-principal", "111111111111")

CASES = {
    "role duration too short": (USE_ROLE + ("--duration-seconds", "899"), "--duration-seconds: 899 seconds is outside 900 to 43200, the range AWS allows for a role session"),
    "role duration too long": (USE_ROLE + ("--duration-seconds", "43201"), "--duration-seconds: 43201 seconds is outside 900 to 43200"),
    "duration not a number": (USE_ROLE + ("--duration-seconds", "an hour"), "argument --duration-seconds: invalid int value: 'an hour'"),
    "session name with a space": (USE_ROLE + ("--role-session-name", "ann smith"), "--role-session-name: 'ann smith' may contain only letters, digits and + = , . @ _ -"),
    "session name too short": (USE_ROLE + ("--role-session-name", "a"), "--role-session-name: 'a' has 1 characters; AWS wants 2 to 64"),
    "session name too long": (USE_ROLE + ("--role-session-name", "n" * 65), "has 65 characters; AWS wants 2 to 64"),
    "role ARN of a user": (("use", "--role-arn", "arn:aws:iam::123456789012:user/ann", "--source-profile", "base"), "--role-arn: 'arn:aws:iam::123456789012:user/ann' is not a role ARN"),
    "role ARN with a short account": (("use", "--role-arn", "arn:aws:iam::12345:role/Admin", "--source-profile", "base"), "is not a role ARN (arn:aws:iam::123456789012:role/NAME)"),
    "external id too short": (USE_ROLE + ("--external-id", "x"), "--external-id: 'x' has 1 characters; AWS wants 2 to 1224"),
    "external id characters": (USE_ROLE + ("--external-id", "id with spaces"), "--external-id: 'id with spaces' may contain only letters, digits and + = , . @ : / _ -"),
    "MFA serial": (USE_ROLE + ("--serial-number", "arn:aws:iam::123456789012:role/NotMfa"), "--serial-number: 'arn:aws:iam::123456789012:role/NotMfa' is not an MFA device"),
    "policy not JSON": (USE_ROLE + ("--policy", "{not json"), "--policy: the session policy is not JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    "policy too long": (USE_ROLE + ("--policy", '{"Statement": "' + "x" * 2100 + '"}'), "--policy: the session policy has 2116 characters without whitespace; AWS allows 2048"),
    "too many managed policies": (USE_ROLE + ("--policy-arns",) + tuple(f"arn:aws:iam::aws:policy/P{i}" for i in range(11)), "--policy-arns: 11 managed policies given; AWS allows 10 per session"),
    "managed policy ARN": (USE_ROLE + ("--policy-arns", "ReadOnlyAccess"), "--policy-arns: 'ReadOnlyAccess' is not a managed policy ARN"),
    "too many tags": (USE_ROLE + ("--tags",) + tuple(f"k{i}=v" for i in range(51)), "--tags: 51 session tags given; AWS allows 50"),
    "tag key characters": (USE_ROLE + ("--tags", "bad!key=v"), "--tags: tag key 'bad!key' must be 1 to 128 letters, digits, spaces or _ . : / = + - @"),
    "tag key twice": (USE_ROLE + ("--tags", "Team=a", "team=b"), "--tags: tag key 'team' is given twice (tag keys are case-insensitive)"),
    "source identity reserved prefix": (USE_ROLE + ("--source-identity", "aws:me"), "--source-identity: 'aws:me' starts with aws:, which AWS reserves"),
    "assume-root longer than 900 s": (ASSUME_ROOT + ("--task-policy-arn", AUDIT_POLICY, "--duration-seconds", "901"), "--duration-seconds: 901 seconds is outside 0 to 900, the range AWS allows for AssumeRoot"),
    "assume-root target": (("use", "--assume-root", "--source-profile", "base", "--target-principal", "1234", "--task-policy-arn", AUDIT_POLICY), "--target-principal: '1234' is not a 12-digit account id"),
    "assume-root task policy": (ASSUME_ROOT + ("--task-policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"), "--task-policy-arn: 'arn:aws:iam::aws:policy/AdministratorAccess' is not a root task policy"),
    "federation name too short": (("federate", "x", "--profile", "base"), "NAME: 'x' has 1 characters; AWS wants 2 to 32"),
    "federation name too long": (("federate", "f" * 33, "--profile", "base"), "NAME: 'fffffffffffffffffffffffffffffffff' has 33 characters; AWS wants 2 to 32"),
    "federation duration": (("federate", "bob", "--profile", "base", "--duration-seconds", "129601"), "--duration-seconds: 129601 seconds is outside 900 to 129600, the range AWS allows for GetFederationToken"),
    "role chaining beyond one hour": (("use", "--role-arn", ROLE, "--source-profile", "prod-role", "--duration-seconds", "7200"), "AWS limits role chaining to 3600 seconds"),
    "region that is no region": (USE_ROLE + ("--region", "eu-west-1/../x"), "region 'eu-west-1/../x' is not a region name"),
}


def refused_lines(home, args):
    result = home.stsenv(*args)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("stsenv: ") for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    return lines


@pytest.mark.parametrize("args, message", CASES.values(), ids=CASES.keys())
def test_each_mistake_is_one_clear_line_before_any_call(world, home, sts, args, message):
    lines = refused_lines(home, args)
    assert len(lines) == 1 and message in lines[0], lines
    assert sts.calls() == 0


def test_every_mistake_of_a_request_is_said_one_line_each(world, home, sts):
    lines = refused_lines(home, USE_ROLE + ("--role-session-name", "a b", "--duration-seconds", "60", "--external-id", "x"))
    assert sorted(line.split(":")[1].strip() for line in lines) == ["--duration-seconds", "--external-id", "--role-session-name"]
    assert sts.calls() == 0


def test_a_profile_mistake_names_the_setting_and_the_profile(world, home, sts):
    home.write_config(home.config.read_text() + f"\n[profile sloppy]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = ann smith\n")
    (line,) = refused_lines(home, ("serve", "sloppy"))
    assert line == "stsenv: role_session_name of profile 'sloppy': 'ann smith' may contain only letters, digits and + = , . @ _ -"
    assert sts.calls() == 0


def test_the_limits_are_those_aws_enforces(world, home, sts):
    """Just inside every limit checked above, STS accepts the request: stsenv refuses nothing AWS allows."""
    sts.create_role("Long", max_session_duration=43200)
    flags = (
        "use", "--role-arn", "arn:aws:iam::123456789012:role/Long", "--source-profile", "base",
        "--duration-seconds", "43200", "--role-session-name", "n" * 64, "--tags", *(f"k{i}=v" for i in range(50)),
        "--policy-arns", *(f"arn:aws:iam::aws:policy/P{i}" for i in range(10)), "--source-identity", "ok",
    )  # fmt: skip
    result = home.stsenv(*flags)
    assert result.returncode == 0, result.stderr
    root = ASSUME_ROOT + ("--task-policy-arn", AUDIT_POLICY, "--duration-seconds", "900")
    assert home.stsenv(*root).returncode == 0
