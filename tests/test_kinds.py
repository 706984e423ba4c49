"""Profiles of every other kind: web identity, SAML, federation, assume-root, through `use`, `serve` and the
aws CLI, each cached under a key that holds what decides it."""

import json
import sys
import time
from urllib.parse import quote_plus

from conftest import ACCOUNT

AUDIT_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


def add_config(home, text):
    home.write_config(home.config.read_text() + "\n" + text)


def served(home, profile, env=None):
    result = home.stsenv("serve", profile, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def aws_identity(home, profile):
    result = home.aws("--profile", profile, "sts", "get-caller-identity", "--output", "json", "--region", "us-east-1")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Arn"]


def refused(result, code=2):
    assert result.returncode == code, (result.stdout, result.stderr)
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("stsenv: ")
    return result.stderr


# ---- web identity ---------------------------------------------------------------------------------------


def web_world(home, sts, tmp_path):
    role_arn = sts.create_role("Web", federated=sts.create_oidc_provider())
    token_file = tmp_path / "token"
    token_file.write_text(sts.web_identity_token())
    add_config(
        home,
        f"[profile web]\nrole_arn = {role_arn}\nweb_identity_token_file = {token_file}\nrole_session_name = ci\n\n"
        "[profile web-served]\ncredential_process = stsenv serve web\n",
    )
    return role_arn, token_file


def test_web_identity_profile_through_the_aws_cli_and_cache(world, home, sts, tmp_path):
    _, token_file = web_world(home, sts, tmp_path)
    assert aws_identity(home, "web-served") == f"arn:aws:sts::{ACCOUNT}:assumed-role/Web/ci"
    first = served(home, "web")
    token_file.write_text(sts.web_identity_token(subject="rotated"))  # issuers rotate the file: cached credentials stay good
    assert served(home, "web") == first
    assert sts.calls("AssumeRoleWithWebIdentity") == 1
    (call,) = sts.call_log()[:1]
    assert call["access_key_id"] is None  # unsigned, as AWS wants it


def test_web_identity_from_the_environment(world, home, sts, tmp_path):
    role_arn = sts.create_role("Web", federated=sts.create_oidc_provider())
    token_file = tmp_path / "token"
    token_file.write_text(sts.web_identity_token())
    add_config(home, "[profile ci]\nregion = eu-west-1\n")
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_ARN": role_arn, "AWS_ROLE_SESSION_NAME": "pipeline"}
    result = home.stsenv("use", "ci", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["STSENV_IDENTITY"] == f"Web@{ACCOUNT}"
    assert json.loads(home.stsenv("ls", "--output", "json", env=env).stdout)[1]["kind"] == "web identity"


def test_web_identity_problems(world, home, sts, tmp_path):
    _, token_file = web_world(home, sts, tmp_path)
    token_file.write_text(sts.web_identity_token(expires_in=-60))
    message = refused(home.stsenv("serve", "web"), code=1)
    assert "AssumeRoleWithWebIdentity refused: ExpiredTokenException" in message and "get a fresh one" in message
    token_file.unlink()
    assert refused(home.stsenv("serve", "web")) == f"stsenv: profile 'web': cannot read the web identity token file {token_file}: No such file or directory\n"


# ---- SAML -----------------------------------------------------------------------------------------------


def saml_world(home, sts, tmp_path, process=None):
    provider = sts.create_saml_provider()
    role_arn = sts.create_role("Saml", federated=provider)
    lines = f"[profile corp]\nstsenv_saml_role_arn = {role_arn}\nstsenv_saml_principal_arn = {provider}\nregion = eu-west-1\n"
    if process:
        lines += f"stsenv_saml_assertion_process = {process}\n"
    add_config(home, lines + "\n[profile corp-served]\ncredential_process = stsenv serve corp\n")
    return role_arn, provider


def test_saml_assertion_file_then_serve_from_the_cache(world, home, sts, tmp_path):
    role_arn, provider = saml_world(home, sts, tmp_path)
    assertion = tmp_path / "assertion.txt"
    assertion.write_text(sts.saml_assertion(role_arn, provider, session_name="ann") + "\n")
    result = home.stsenv("use", "corp", "--saml-assertion-file", str(assertion), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["STSENV_IDENTITY"] == f"Saml@{ACCOUNT}"
    assert aws_identity(home, "corp-served") == f"arn:aws:sts::{ACCOUNT}:assumed-role/Saml/ann"  # from the cache
    assert sts.calls("AssumeRoleWithSAML") == 1


def test_saml_assertion_pasted_as_form_data_on_stdin(world, home, sts, tmp_path):
    role_arn, provider = saml_world(home, sts, tmp_path)
    form = f"SAMLResponse={quote_plus(sts.saml_assertion(role_arn, provider))}&RelayState=x"
    result = home.stsenv("use", "corp", "--saml-assertion-file", "-", input=form)
    assert result.returncode == 0, result.stderr


def test_saml_assertion_process_runs_only_on_a_cold_cache(world, home, sts, tmp_path):
    assertion = tmp_path / "assertion.txt"
    script = tmp_path / "idp.py"
    script.write_text(f"import sys\nsys.stdout.write(open({str(assertion)!r}).read())\nopen({str(tmp_path / 'ran')!r}, 'a').write('x')\n")
    role_arn, provider = saml_world(home, sts, tmp_path, process=f"{sys.executable} {script}")
    assertion.write_text(sts.saml_assertion(role_arn, provider))
    first = served(home, "corp")
    assert served(home, "corp") == first
    assert (tmp_path / "ran").read_text() == "x"
    assert sts.calls("AssumeRoleWithSAML") == 1


def test_saml_problems_are_said_before_aws_is_asked(world, home, sts, tmp_path):
    role_arn, provider = saml_world(home, sts, tmp_path)
    other = sts.create_role("Other", federated=provider)
    assertion = tmp_path / "assertion.txt"
    message = refused(home.stsenv("serve", "corp"))
    assert message == "stsenv: profile 'corp' needs a SAML assertion (run `stsenv use corp --saml-assertion-file FILE`, or set stsenv_saml_assertion_process)\n"
    assertion.write_text(sts.saml_assertion(role_arn, provider, expires_in=-10))
    assert "the SAML assertion expired at" in refused(home.stsenv("use", "corp", "--saml-assertion-file", str(assertion)))
    assertion.write_text(sts.saml_assertion(other, provider))
    message = refused(home.stsenv("use", "corp", "--saml-assertion-file", str(assertion)))
    assert f"does not grant {role_arn} through {provider}; it grants: {other} (provider {provider})" in message
    assertion.write_text("not an assertion at all")
    assert "is not base64-encoded SAML XML" in refused(home.stsenv("use", "corp", "--saml-assertion-file", str(assertion)))
    assert sts.calls() == 0


# ---- federation and assume-root -------------------------------------------------------------------------


def test_federation_profile_is_served_and_cached(world, home, sts, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    add_config(
        home,
        f"[profile partner]\nstsenv_federation_name = partner-ann\nstsenv_source_profile = base\nstsenv_policy_file = {policy}\n"
        "duration_seconds = 7200\n\n[profile partner-served]\ncredential_process = stsenv serve partner\n",
    )
    assert aws_identity(home, "partner-served") == f"arn:aws:sts::{ACCOUNT}:federated-user/partner-ann"
    output = served(home, "partner")
    assert 7000 < time.mktime(time.strptime(output["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime()) <= 7200
    assert sts.calls("GetFederationToken") == 1
    policy.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}')
    served(home, "partner")
    assert sts.calls("GetFederationToken") == 2  # a changed policy file is a different session


def test_assume_root_profile_is_served_and_cached(world, home, sts):
    add_config(
        home,
        f"[profile member-audit]\nstsenv_target_principal = 111111111111\nstsenv_task_policy_arn = {AUDIT_POLICY}\n"
        "stsenv_source_profile = base\n\n[profile member-audit-served]\ncredential_process = stsenv serve member-audit\n",
    )
    assert aws_identity(home, "member-audit-served") == "arn:aws:iam::111111111111:root"
    served(home, "member-audit")
    assert sts.calls("AssumeRoot") == 1


def test_a_profile_of_two_kinds_is_refused(world, home):
    add_config(home, "[profile muddled]\nstsenv_federation_name = x1\nstsenv_target_principal = 111111111111\nstsenv_source_profile = base\n")
    assert "has settings of more than one kind (federation, assume-root)" in refused(home.stsenv("serve", "muddled"))


def test_saml_assertion_for_a_profile_that_is_not_saml_is_refused(world, home, sts, tmp_path):
    """Given to a role profile, an assertion would be dropped without a word: the user meant another profile."""
    assertion = tmp_path / "assertion.b64"
    assertion.write_text("PHNhbWw+")
    message = refused(home.stsenv("use", "prod", "--saml-assertion-file", str(assertion)))
    assert message == "stsenv: --saml-assertion-file is for SAML profiles, and 'prod' is not one (assume-role) (leave the flag out)\n"
    assert sts.calls("AssumeRole") == 0
