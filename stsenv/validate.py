"""AWS's limits on STS parameters, checked before any call so that a mistake is one clear line, exit 2.

Durations are each kind's range (stsenv.kinds); the rest is the STS API model's (lengths and patterns of
names, ARNs, ids, policies, tags). Every problem of a request is reported, one `stsenv:` line each.
Imported on the cold path only.
"""

import json
import re

from stsenv import kinds
from stsenv.config import ADHOC_PREFIX
from stsenv.errors import ConfigError
from stsenv.oneline import quoted

POLICY_MAX_CHARS = 2048
POLICY_ARNS_MAX = 10
TAGS_MAX = 50
ROOT_TASK_POLICIES = (
    "IAMAuditRootUserCredentials",
    "IAMCreateRootUserPassword",
    "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy",
    "SQSUnlockQueuePolicy",
)

_NAME = re.compile(r"[\w+=,.@-]*", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]*", re.ASCII)
_SERIAL = re.compile(r"[\w+=/:,.@-]*", re.ASCII)
_PARTITION = r"aws(?:-[a-z]+)*"
_ROLE_ARN = re.compile(rf"arn:{_PARTITION}:iam::\d{{12}}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}}", re.ASCII)
_MFA_SERIAL = re.compile(rf"arn:{_PARTITION}:iam::\d{{12}}:(?:mfa|u2f)/[\w+=,.@/-]+|GAHT[0-9A-Z]+|[\w+=,.@-]{{9,}}", re.ASCII)
_SAML_PROVIDER = re.compile(rf"arn:{_PARTITION}:iam::\d{{12}}:saml-provider/[\w.-]{{1,128}}", re.ASCII)
_POLICY_ARN = re.compile(rf"arn:{_PARTITION}:iam::(?:aws|\d{{12}}):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,128}}", re.ASCII)
_TASK_POLICY_ARN = re.compile(rf"arn:{_PARTITION}:iam::aws:policy/root-task/([\w+=,.@-]+)", re.ASCII)
_TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")  # \p{L}\p{Z}\p{N}_.:/=+-@ (Unicode letters, digits, spaces)
_ACCESS_KEY_ID = re.compile(r"\w{16,128}", re.ASCII)
_POLICY_TEXT = re.compile(r"[\t\n\r\x20-\xff]+")

# Source param -> (key in ~/.aws/config, flag of `use`/`federate`), for naming what was wrong.
_ORIGINS = {
    "role_arn": ("role_arn", "--role-arn"),
    "session_name": ("role_session_name", "--role-session-name"),
    "duration": ("duration_seconds", "--duration-seconds"),
    "external_id": ("external_id", "--external-id"),
    "mfa_serial": ("mfa_serial", "--serial-number"),
    "policy": ("stsenv_policy_file", "--policy"),
    "policy_arns": ("stsenv_policy_arns", "--policy-arns"),
    "tags": ("stsenv_tags", "--tags"),
    "source_identity": ("stsenv_source_identity", "--source-identity"),
    "principal_arn": ("stsenv_saml_principal_arn", "stsenv_saml_principal_arn"),
    "name": ("stsenv_federation_name", "NAME"),
    "target_principal": ("stsenv_target_principal", "--target-principal"),
    "task_policy_arn": ("stsenv_task_policy_arn", "--task-policy-arn"),
}
_SAML_ORIGINS = {"role_arn": ("stsenv_saml_role_arn", "--role-arn")}


class Invalid(ConfigError):
    """Every problem found in one request, printed one `stsenv:` line each (exit 2)."""

    def __init__(self, problems):
        super().__init__(problems[0])
        self.problems = problems

    def __str__(self):
        return "; ".join(self.problems)

    def lines(self):
        return list(self.problems)


def source(node):
    """Check every STS parameter of a Source; Invalid listing each problem."""
    problems = []
    for name, value in node.params.items():
        check = _CHECKS.get(name)
        if check is not None:
            problem = check(value, node)
            if problem:
                problems.append(f"{_origin(node, name)}: {problem}")
    if problems:
        raise Invalid(problems)


def _origin(node, param):
    config_key, flag = (_SAML_ORIGINS if node.kind is kinds.SAML else {}).get(param) or _ORIGINS[param]
    if node.profile.startswith(ADHOC_PREFIX):  # made from flags (stsenv.adhoc): name the flag
        return flag
    return f"{config_key} of profile {node.profile!r}"


# ---- one function per parameter: a short problem, or None -------------------------------------------


def duration(value, node):
    low, high = node.kind.durations
    if not isinstance(value, int) or not low <= value <= high:
        operation = "a role session" if node.kind.role_session else node.kind.api
        return f"{value} seconds is outside {low} to {high}, the range AWS allows for {operation}"
    return None  # the 1 hour limit of role chaining is config's to say, when it resolves the chain


def role_arn(value, node=None):
    if 20 <= len(value) <= 2048 and _ROLE_ARN.fullmatch(value):
        return None
    return f"{quoted(value)} is not a role ARN (arn:aws:iam::123456789012:role/NAME)"


def session_name(value, node=None):
    return _named(value, 2, 64, _NAME, "letters, digits and + = , . @ _ -")


def external_id(value, node=None):
    return _named(value, 2, 1224, _EXTERNAL_ID, "letters, digits and + = , . @ : / _ -")


def mfa_serial(value, node=None):
    problem = _named(value, 9, 256, _SERIAL, "letters, digits and + = / : , . @ _ -")
    if problem:
        return problem
    if not _MFA_SERIAL.fullmatch(value):
        return f"{quoted(value)} is not an MFA device (arn:aws:iam::123456789012:mfa/NAME, or a hardware serial)"
    return None


def policy(value, node=None):
    """A session policy: JSON, sent without its whitespace, at most 2048 characters then."""
    try:
        document = json.loads(value)
    except ValueError as error:
        return f"the session policy is not JSON ({error.msg} at line {error.lineno} column {error.colno})"
    if not isinstance(document, dict):
        return "the session policy must be a JSON object"
    packed = compact_policy(value)
    if len(packed) > POLICY_MAX_CHARS:
        return f"the session policy has {len(packed)} characters without whitespace; AWS allows {POLICY_MAX_CHARS}"
    if not _POLICY_TEXT.fullmatch(packed):
        return "the session policy may contain only ASCII and Latin-1 characters"
    return None


def compact_policy(text):
    """The policy as sent to AWS: the same document without insignificant whitespace."""
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


def policy_arns(value, node=None):
    arns = split_list(value)
    if len(arns) > POLICY_ARNS_MAX:
        return f"{len(arns)} managed policies given; AWS allows {POLICY_ARNS_MAX} per session"
    bad = [arn for arn in arns if not _POLICY_ARN.fullmatch(arn)]
    return f"{quoted(bad[0])} is not a managed policy ARN (arn:aws:iam::aws:policy/NAME)" if bad else None


def tags(value, node=None):
    pairs = split_tags(value)
    if len(pairs) > TAGS_MAX:
        return f"{len(pairs)} session tags given; AWS allows {TAGS_MAX}"
    seen = set()
    for key, text in pairs:
        if not 1 <= len(key) <= 128 or not _TAG_TEXT.fullmatch(key):
            return f"tag key {quoted(key)} must be 1 to 128 letters, digits, spaces or _ . : / = + - @"
        if len(text) > 256 or not _TAG_TEXT.fullmatch(text):
            return f"the value of tag {quoted(key)} must be up to 256 letters, digits, spaces or _ . : / = + - @"
        if key.lower() in seen:
            return f"tag key {quoted(key)} is given twice (tag keys are case-insensitive)"
        seen.add(key.lower())
    return None


def source_identity(value, node=None):
    if value.lower().startswith("aws:"):
        return f"{quoted(value)} starts with aws:, which AWS reserves"
    return _named(value, 2, 64, _NAME, "letters, digits and + = , . @ _ -")


def principal_arn(value, node=None):
    return None if _SAML_PROVIDER.fullmatch(value) else (
        f"{quoted(value)} is not a SAML provider ARN (arn:aws:iam::123456789012:saml-provider/NAME)"
    )


def federation_name(value, node=None):
    return _named(value, 2, 32, _NAME, "letters, digits and + = , . @ _ -")


def target_principal(value, node=None):
    return None if len(value) == 12 and value.isdigit() else f"{quoted(value)} is not a 12-digit account id"


def task_policy_arn(value, node=None):
    match = _TASK_POLICY_ARN.fullmatch(value)
    known = ", ".join(ROOT_TASK_POLICIES)
    if match is None:
        return f"{quoted(value)} is not a root task policy (arn:aws:iam::aws:policy/root-task/NAME; NAME one of {known})"
    return None


def access_key_id(value):
    if not _ACCESS_KEY_ID.fullmatch(value):
        return f"{quoted(value)} is not an access key id (16 to 128 letters and digits, e.g. AKIAIOSFODNN7EXAMPLE)"
    return None


def _named(value, low, high, pattern, allowed):
    if not low <= len(value) <= high:
        return f"{quoted(value)} has {len(value)} characters; AWS wants {low} to {high}"
    if not pattern.fullmatch(value):
        return f"{quoted(value)} may contain only {allowed}"
    return None


_CHECKS = {
    "role_arn": role_arn,
    "session_name": session_name,
    "duration": duration,
    "external_id": external_id,
    "mfa_serial": mfa_serial,
    "policy": policy,
    "policy_arns": policy_arns,
    "tags": tags,
    "source_identity": source_identity,
    "principal_arn": principal_arn,
    "name": federation_name,
    "target_principal": target_principal,
    "task_policy_arn": task_policy_arn,
}


# ---- the list forms used in config and on the command line ------------------------------------------


def split_list(text):
    """`a, b c` -> ["a", "b", "c"]: ARNs separated by commas or spaces."""
    return [item for item in text.replace(",", " ").split() if item]


def split_tags(text):
    """`Project=x,Team=y` (config) or the same joined from `--tags K=V ...` -> [("Project", "x"), ...]."""
    pairs = []
    for item in text.split(","):
        if item.strip():
            key, _, value = item.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs
