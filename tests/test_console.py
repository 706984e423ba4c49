"""`stsenv console PROFILE`: a sign-in URL from the profile's credentials through the same broker and cache,
checked field by field and exchanged at the local federation endpoint's `login` (tests/localsignin.py)."""

import json
import subprocess
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import SESSION_NAME
from stsenv import signin as signin_module
from stsenv.resolution import ALLOW_ALL_POLICY


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


def console(home, signin, *args, env=None):
    env = {"STSENV_SIGNIN_ENDPOINT": signin.federation_url, **(env or {})}
    return subprocess.run(
        ["stsenv", "console", *args], capture_output=True, text=True, env={**home.env, **env}, timeout=120,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )


def printed_url(home, signin, *args, env=None):
    """The URL `console --print` printed, split: (endpoint, {field: value})."""
    result = console(home, signin, *args, "--print", env=env)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    parts = urlsplit(line)
    fields = parse_qsl(parts.query, strict_parsing=True)
    assert [name for name, _ in fields] == ["Action", "Issuer", "Destination", "SigninToken"]
    return f"{parts.scheme}://{parts.netloc}{parts.path}", dict(fields), line


def log_in(url):
    """(status, Location) of following the sign-in URL once, as a browser would."""
    try:
        with OPENER.open(url, timeout=10) as answer:
            return answer.status, answer.headers.get("Location")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location")


def token_info(signin, token):
    (info,) = [issued for issued in signin.issued_tokens() if issued["token"] == token]
    return info


def signin_requests(signin):
    return [entry for entry in signin.call_log() if entry["action"] == "getSigninToken"]


def test_role_profile_signs_in_directly(world, home, sts, signin):
    endpoint, fields, url = printed_url(home, signin, "prod")
    assert endpoint == signin.federation_url
    assert fields["Action"] == "login" and fields["Issuer"] == "stsenv"
    assert fields["Destination"] == "https://console.aws.amazon.com/console/home?region=eu-west-1"
    info = token_info(signin, fields["SigninToken"])
    assert (info["kind"], info["session_duration"]) == ("assumed-role", None)
    assert info["arn"].startswith("arn:aws:sts::123456789012:assumed-role/Admin/")
    (request,) = signin_requests(signin)
    assert request["method"] == "POST"  # the credentials never travel in a URL
    cached = json.loads(home.stsenv("serve", "prod").stdout)
    assert request["params"]["Session"]["sessionId"] == cached["AccessKeyId"]  # the shared cache's credentials
    assert "SessionDuration" not in request["params"]
    assert log_in(url) == (302, fields["Destination"])
    assert log_in(url)[0] == 400  # a sign-in token is good once
    printed_url(home, signin, "prod")
    assert sts.calls("AssumeRole") == 1 and sts.calls() == 1


def test_service_region_and_session_duration(world, home, sts, signin):
    _, fields, url = printed_url(home, signin, "prod", "--service", "cloudformation", "--region", "ap-southeast-2", "--session-duration", "7200")
    assert fields["Destination"] == "https://console.aws.amazon.com/cloudformation/home?region=ap-southeast-2"
    assert token_info(signin, fields["SigninToken"])["session_duration"] == 7200
    (request,) = signin_requests(signin)
    assert request["params"]["SessionDuration"] == "7200"
    assert log_in(url) == (302, fields["Destination"])


def test_profile_without_a_region(world, home, sts, signin):
    home.write_config(home.config.read_text().replace("[default]\nregion = us-east-1\n", "[default]\n"))
    home.write_config(home.config.read_text() + f"\n[profile noregion]\nrole_arn = {world.role_arn}\nsource_profile = base\n")
    _, fields, _ = printed_url(home, signin, "noregion")
    assert fields["Destination"] == "https://console.aws.amazon.com/console/home"
    _, fields, _ = printed_url(home, signin, "noregion", env={"AWS_REGION": "eu-south-1"})
    assert fields["Destination"] == "https://console.aws.amazon.com/console/home?region=eu-south-1"


def test_iam_user_keys_go_through_get_federation_token(world, home, sts, signin):
    _, fields, url = printed_url(home, signin, "base")
    info = token_info(signin, fields["SigninToken"])
    assert (info["kind"], info["arn"]) == ("federated", f"arn:aws:sts::123456789012:federated-user/{SESSION_NAME[:32]}")
    (federation,) = [entry for entry in sts.call_log() if entry["action"] == "GetFederationToken"]
    assert federation["access_key_id"] == world.alice["access_key_id"]
    assert json.loads(federation["params"]["Policy"]) == json.loads(ALLOW_ALL_POLICY)
    assert federation["params"]["DurationSeconds"] == "3600"
    assert log_in(url)[0] == 302
    printed_url(home, signin, "base")
    assert sts.calls("GetFederationToken") == 1  # cached like any session
    printed_url(home, signin, "base", "--duration-seconds", "7200")
    assert [e["params"]["DurationSeconds"] for e in sts.call_log() if e["action"] == "GetFederationToken"] == ["3600", "7200"]


def test_an_mfa_session_cannot_sign_in_so_its_keys_do(world, home, sts, signin):
    serial, secret = sts.create_virtual_mfa("alice")
    home.write_credentials(home.credentials.read_text() + f"mfa_serial = {serial}\nstsenv_mfa_totp_secret_file = {home.path}/totp\n")
    (home.path / "totp").write_text(secret)
    (home.path / "totp").chmod(0o600)
    result = console(home, signin, "base", "--print")
    assert result.returncode == 0, result.stderr
    assert "an MFA session (GetSessionToken) cannot sign in to the console; signing in with the keys of 'base' through GetFederationToken" in result.stderr
    assert sts.calls("GetSessionToken") == 0
    assert sts.calls("GetFederationToken") == 1


def test_web_identity_role_session_signs_in_directly(world, home, sts, signin, tmp_path):
    role_arn = sts.create_role("Web", federated=sts.create_oidc_provider())
    (tmp_path / "token").write_text(sts.web_identity_token())
    home.write_config(home.config.read_text() + f"\n[profile web]\nrole_arn = {role_arn}\nweb_identity_token_file = {tmp_path / 'token'}\n")
    _, fields, url = printed_url(home, signin, "web", "--session-duration", "900")
    assert token_info(signin, fields["SigninToken"])["arn"].startswith("arn:aws:sts::123456789012:assumed-role/Web/")
    assert log_in(url)[0] == 302


@pytest.mark.parametrize("with_token", [False, True], ids=["long-lived-keys", "session-keys"])
def test_a_credential_process_source_runs_once(world, home, sts, signin, tmp_path, with_token):
    """Console looks at a credential_process's answer (a session token or not), then signs with it: one run."""
    keys = world.alice
    if with_token:
        keys = json.loads(home.stsenv("serve", "prod").stdout)
        keys = {"access_key_id": keys["AccessKeyId"], "secret_access_key": keys["SecretAccessKey"], "session_token": keys["SessionToken"]}
    answer = {"Version": 1, "AccessKeyId": keys["access_key_id"], "SecretAccessKey": keys["secret_access_key"]}
    if with_token:
        answer["SessionToken"] = keys["session_token"]
    script = tmp_path / "creds"
    script.write_text(f"#!/bin/sh\necho run >> {tmp_path / 'runs'}\necho '{json.dumps(answer)}'\n")
    script.chmod(0o755)
    home.write_config(home.config.read_text() + f"\n[profile tool]\ncredential_process = {script}\nregion = eu-west-1\n")
    _, fields, url = printed_url(home, signin, "tool")
    assert (tmp_path / "runs").read_text() == "run\n"
    assert token_info(signin, fields["SigninToken"])["kind"] == ("assumed-role" if with_token else "federated")
    assert sts.calls("GetFederationToken") == (0 if with_token else 1)
    assert log_in(url)[0] == 302


@pytest.mark.parametrize(
    "args, words",
    [
        (("prod", "--session-duration", "899"), "--session-duration 899 is outside 900 to 43200"),
        (("base", "--session-duration", "3600"), "--session-duration is for role sessions, and 'base' signs in as a federated user"),
        (("chained", "--session-duration", "3600"), "the role session of 'chained' is asked for with temporary credentials (prod-role: role)"),
        (("prod", "--service", "ec2/../../evil"), "--service 'ec2/../../evil' is not a console service"),
        (("prod", "--region", "cn-north-1"), "--region cn-north-1 is in partition aws-cn"),
        (("prod", "--duration-seconds", "60"), "--duration-seconds 60 is outside 900 to 43200"),
        (("base", "--duration-seconds", "200000"), "--duration-seconds 200000 is outside 900 to 129600, the range AWS allows for GetFederationToken"),
        (("iso",), "partition aws-iso has no public AWS console"),
        (("root",), "profile 'root' is a root-task session (AssumeRoot), which cannot sign in to the console"),
    ],
    ids=["short-session", "federated-session", "chained-session", "service", "china", "duration", "federation-duration", "iso", "root"],
)
def test_refused_before_any_call(world, home, sts, signin, args, words):
    home.write_config(
        home.config.read_text()
        + f"\n[profile chained]\nrole_arn = {world.role_arn}\nsource_profile = prod-role\n"
        + f"\n[profile iso]\nrole_arn = {world.role_arn}\nsource_profile = base\nregion = us-iso-east-1\n"
        + "\n[profile root]\nstsenv_target_principal = 111111111111\nstsenv_task_policy_arn = arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials\nsource_profile = base\n"
    )
    result = console(home, signin, *args, "--print")
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stdout == ""
    assert sts.calls() == 0 and signin.calls() == 0


def test_browser_is_opened_only_where_one_can_be(world, home, sts, signin, tmp_path):
    nowhere = console(home, signin, "prod", env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "BROWSER": ""})
    assert nowhere.returncode == 2
    assert nowhere.stderr == "stsenv: no browser can be opened here (no DISPLAY, WAYLAND_DISPLAY or BROWSER) (`stsenv console PROFILE --print` prints the URL instead)\n"
    assert sts.calls() == 0
    browser = tmp_path / "browser"
    opened = tmp_path / "opened"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    result = console(home, signin, "prod", env={"BROWSER": str(browser), "DISPLAY": ":0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the URL went to the browser only
    url = opened.read_text()
    assert url.startswith(signin.federation_url + "?Action=login&")
    assert log_in(url)[0] == 302


def test_the_sign_in_token_is_never_shown_but_printed_on_request(world, home, sts, signin):
    result = console(home, signin, "prod", "--print", "--debug")
    assert result.returncode == 0, result.stderr
    token = dict(parse_qsl(urlsplit(result.stdout.strip()).query))["SigninToken"]
    cached = json.loads(home.stsenv("serve", "prod").stdout)
    for secret in (token, cached["SecretAccessKey"], cached["SessionToken"]):
        assert secret not in result.stderr
    assert "stsenv[debug]: console: prod signs in with assume-role credentials" in result.stderr


def test_endpoint_failures_are_one_line_without_secrets(world, home, sts, signin):
    signin.inject_fault("getSigninToken", "503", times=1)
    failed = console(home, signin, "prod", "--print")
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"stsenv: getSigninToken refused at {signin.federation_url}: HTTP 503")
    assert len(failed.stderr.splitlines()) == 1 and failed.stdout == ""
    signin.inject_reply("getSigninToken", '{"SigninToken": "has a space\\nand a newline"}')
    lying = console(home, signin, "prod", "--print")
    assert lying.returncode == 1 and "did not answer with a sign-in token" in lying.stderr
    refused = console(home, signin, "prod", "--print", env={"STSENV_SIGNIN_ENDPOINT": "ftp://example.com/x"})
    assert refused.returncode == 2 and "is not an http(s) URL" in refused.stderr


@pytest.mark.parametrize(
    "partition, region, federation, page",
    [
        ("aws", None, "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com/console/home"),
        ("aws", "eu-west-1", "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com/console/home?region=eu-west-1"),
        ("aws-us-gov", "us-gov-west-1", "https://signin.amazonaws-us-gov.com/federation", "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"),
        ("aws-cn", "cn-north-1", "https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn/console/home?region=cn-north-1"),
    ],
)
def test_each_partition_has_its_own_hosts(partition, region, federation, page):
    assert signin_module.federation_endpoint(partition, {}) == federation
    assert signin_module.destination(partition, region) == page


def test_china_profile_end_to_end(world, home, sts, signin):
    """A profile in aws-cn lands on the Chinese console (the local endpoint stands in for its sign-in host)."""
    home.write_config(home.config.read_text() + f"\n[profile beijing]\nrole_arn = {world.role_arn}\nsource_profile = base\nregion = cn-north-1\n")
    _, fields, url = printed_url(home, signin, "beijing", "--service", "s3")
    assert fields["Destination"] == "https://console.amazonaws.cn/s3/home?region=cn-north-1"
    assert log_in(url) == (302, fields["Destination"])


def test_pipe_into_a_firefox_container(world, home, sts, signin):
    """The README's recipe: the URL, percent-encoded, inside Firefox's container extension URL scheme."""
    result = subprocess.run(
        ["sh", "-c", 'url=$(stsenv console prod --print) && printf "ext+container:name=prod&url=%s" "$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=\'\'))" "$url")"'],
        capture_output=True, text=True, env={**home.env, "STSENV_SIGNIN_ENDPOINT": signin.federation_url}, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    scheme, _, rest = result.stdout.partition(":")
    fields = dict(parse_qsl(rest))
    assert scheme == "ext+container" and fields["name"] == "prod"
    assert log_in(fields["url"])[0] == 302


def test_an_identity_center_role_session_signs_in_directly(home, sts, sso, signin):
    """IAM Identity Center role credentials are a role session like any other (the SSO row's role_session)."""
    from test_sso_token import SsoWorld

    world = SsoWorld(home, sso)
    world.write_token()
    result = world.stsenv("console", "dev-admin", "--print", "--session-duration", "3600", env={"STSENV_SIGNIN_ENDPOINT": signin.federation_url})
    assert result.returncode == 0, result.stderr
    fields = dict(parse_qsl(urlsplit(result.stdout.strip()).query))
    info = token_info(signin, fields["SigninToken"])
    assert info["arn"].startswith("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_")
    assert (info["kind"], info["session_duration"]) == ("assumed-role", 3600)
    assert fields["Destination"] == "https://console.aws.amazon.com/console/home?region=us-east-1"
    assert log_in(result.stdout.strip())[0] == 302
    refused = world.stsenv("console", "dev-admin", "--print", "--duration-seconds", "900")
    assert refused.returncode == 2 and "gets SSO credentials" in refused.stderr
