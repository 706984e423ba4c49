"""In-process rules of issue 17's pieces: what --duration-seconds and --region change in a resolved profile (the
cache key), the console's destinations and sign-in URL, the picker's order and filter, the history file, and
the words `exec` takes after `--`."""

import stat
from urllib.parse import parse_qsl, urlsplit

import pytest

from stsenv import history, picker, signin
from stsenv.adhoc import Overrides
from stsenv.cli import split_command_line
from stsenv.config import AwsConfig
from stsenv.errors import ConfigError
from stsenv.resolution import resolve

CONFIG = """
[profile keys]
aws_access_key_id = AKIAEXAMPLEEXAMPLE00
aws_secret_access_key = secret

[profile role]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = keys
region = eu-west-1

[profile chained]
role_arn = arn:aws:iam::123456789012:role/Other
source_profile = role

[profile alias]
credential_process = stsenv serve role

[profile settings-only]
region = us-east-1
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config"
    path.write_text(CONFIG)
    return AwsConfig({"AWS_CONFIG_FILE": str(path), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "STSENV_CACHE_DIR": str(tmp_path / "cache")})


def test_duration_is_a_param_and_the_region_is_not(config):
    plain = resolve(config, "role")
    shorter = resolve(config, "role", overrides=Overrides(duration=900))
    elsewhere = resolve(config, "role", overrides=Overrides(region="ap-south-1"))
    assert shorter.params["duration"] == 900 and plain.params["duration"] == 3600
    assert shorter.cache_key() != plain.cache_key()
    assert elsewhere.cache_key() == plain.cache_key()


def test_overrides_follow_an_alias_and_stop_at_the_profile_named(config):
    assert resolve(config, "alias", overrides=Overrides(duration=1200)).params["duration"] == 1200
    chained = resolve(config, "chained", overrides=Overrides(duration=1800))
    assert (chained.params["duration"], chained.parent.params["duration"]) == (1800, 3600)


@pytest.mark.parametrize(
    "profile, overrides, words",
    [
        ("role", Overrides(duration=43201), "outside 900 to 43200"),
        ("keys", Overrides(duration=900), "holds its credentials"),
        ("chained", Overrides(duration=3601), "--duration-seconds 3601 is too long"),
        ("role", Overrides(region="cn-northwest-1"), "partition aws-cn"),
        ("role", Overrides(region="eu west"), "--region 'eu west' is not a region name"),
    ],
)
def test_refused_overrides(config, profile, overrides, words):
    with pytest.raises(ConfigError) as refused:
        resolve(config, profile, overrides=overrides)
    assert words in str(refused.value)


def test_destinations_and_the_login_url():
    assert signin.destination("aws", "eu-west-1", "ec2") == "https://console.aws.amazon.com/ec2/home?region=eu-west-1"
    assert signin.destination("aws-cn") == "https://console.amazonaws.cn/console/home"
    for service in ("", "../x", "EC2", "a b", "x//y", "/s3"):
        with pytest.raises(ConfigError):
            signin.destination("aws", None, service)
    with pytest.raises(ConfigError):
        signin.hosts("aws-iso-b")
    url = signin.login_url("https://signin.aws.amazon.com/federation", "to+k/en=", "https://console.aws.amazon.com/s3/home?region=x&y")
    parts = urlsplit(url)
    assert parts.netloc == "signin.aws.amazon.com" and parts.path == "/federation"
    assert parse_qsl(parts.query) == [
        ("Action", "login"),
        ("Issuer", "stsenv"),
        ("Destination", "https://console.aws.amazon.com/s3/home?region=x&y"),
        ("SigninToken", "to+k/en="),
    ]
    assert signin.federation_endpoint("aws", {"STSENV_SIGNIN_ENDPOINT": "http://127.0.0.1:1/federation"}) == "http://127.0.0.1:1/federation"
    for bad in ("file:///etc/passwd", "http://", "https://x/federation?Action=login"):
        with pytest.raises(ConfigError):
            signin.federation_endpoint("aws", {"STSENV_SIGNIN_ENDPOINT": bad})


def test_picker_order_and_filter(config):
    assert picker.candidates(config, ["role", "gone", "settings-only"]) == ["role", "alias", "chained", "keys"]
    assert picker.matches(["prod-eu", "prod-us", "dev-eu"], "EU prod") == ["prod-eu"]
    assert picker.matches(["a", "b"], "  ") == ["a", "b"]


def test_history_file(tmp_path):
    environ = {"STSENV_CACHE_DIR": str(tmp_path / "cache")}
    assert history.recent(environ) == []
    for profile in ("a", "b", "a", "adhoc:x", "c"):
        history.remember(environ, profile)
    path = tmp_path / "cache" / "history"
    assert path.read_text() == "c\na\nb\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    before = path.stat().st_mtime_ns, path.stat().st_ino
    history.remember(environ, "c")
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before  # first already: not written
    for number in range(history.MAX_PROFILES + 5):
        history.remember(environ, f"p{number}")
    assert len(history.recent(environ)) == history.MAX_PROFILES
    history.forget(environ)
    assert history.recent(environ) == [] and sorted(p.name for p in path.parent.iterdir()) == []


def test_words_after_dashes_belong_to_exec_only():
    assert split_command_line(["exec", "prod", "--server", "--", "aws", "--", "--x"]) == (["exec", "prod", "--server"], ["aws", "--", "--x"])
    assert split_command_line(["exec", "prod"]) == (["exec", "prod"], None)
    assert split_command_line(["use", "--", "-odd"]) == (["use", "--", "-odd"], None)
