"""Where a profile's STS calls go, in this process: stsenv.endpoints against botocore itself on the cases of
tests/test_endpoints.py (which checks the same through `stsenv ls`), and the rules of region and partition."""

import os

import pytest
from test_endpoints import CASES, SERVICES, botocore_endpoint

from stsenv import endpoints
from stsenv.config import AwsConfig
from stsenv.errors import ConfigError
from stsenv.sts import Endpoint


@pytest.fixture
def no_aws_environment(monkeypatch):
    """botocore reads this process's environment: none of the user's AWS_* settings may decide its answer."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)


def profile(tmp_path, settings, environ=None, services=SERVICES):
    """(config, section) of `[profile p]` with `settings`, beside a [services local] section."""
    path = tmp_path / "config"
    path.write_text("[profile p]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()) + "\n" + services)
    config = AwsConfig({"AWS_CONFIG_FILE": str(path), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), **(environ or {})})
    return config, config.section("p")


@pytest.mark.parametrize("settings, env", CASES, ids=[f"{s}-{e}" for s, e in CASES])
def test_the_sts_endpoint_and_signing_region_are_botocores(no_aws_environment, tmp_path, settings, env):
    config, section = profile(tmp_path, settings, env)
    found = endpoints.sts_endpoint(config, section)
    assert (found["endpoint"], found["region"]) == botocore_endpoint(settings, env, tmp_path)


@pytest.mark.parametrize(
    "region, partition",
    [
        (None, "aws"),
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("us-isof-south-1", "aws-iso-f"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("eusc-de-east-1", "aws-eusc"),
        ("mars-north-1", "aws"),
    ],
)
def test_the_partition_of_a_region(tmp_path, region, partition):
    config, section = profile(tmp_path, {"region": region} if region else {})
    assert endpoints.partition(config, section) == partition


def test_the_profiles_region_then_the_users_region_variables(tmp_path):
    assert endpoints.region(*profile(tmp_path, {"region": "eu-west-1"}, {"AWS_REGION": "us-west-2"})) == "eu-west-1"
    assert endpoints.region(*profile(tmp_path, {}, {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"})) == "us-west-2"
    assert endpoints.region(*profile(tmp_path, {}, {"AWS_DEFAULT_REGION": "ap-south-1"})) == "ap-south-1"
    assert endpoints.region(*profile(tmp_path, {})) is None


def test_a_region_stsenv_exported_is_not_the_users(tmp_path):
    """After `use prod` (region eu-west-1), the next profile without a region uses the user's own region."""
    environ = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "STSENV_REGION": "eu-west-1", "STSENV_USER_AWS_REGION": "us-west-2"}
    config, section = profile(tmp_path, {}, environ)
    assert endpoints.region(config, section) == "us-west-2"
    assert endpoints.sts_endpoint(config, section) == {"endpoint": "https://sts.us-west-2.amazonaws.com", "region": "us-west-2"}
    changed = {**environ, "AWS_REGION": "ca-central-1"}  # the user set a region of their own since
    assert endpoints.region(*profile(tmp_path, {}, changed)) == "ca-central-1"


@pytest.mark.parametrize("region", ["eu west 1", "-eu-west-1", "eu-west-1;id", "eu_west_1", "ü-west-1", "x" * 64])
def test_a_region_that_is_no_region_name_is_refused(tmp_path, region):
    config, section = profile(tmp_path, {}, {"AWS_REGION": region})
    with pytest.raises(ConfigError, match="is not a region name"):
        endpoints.region(config, section)


def test_configured_endpoints_in_botocores_order_and_ignored_on_request(tmp_path):
    settings = {"services": "local", "endpoint_url": "https://profile.example.test"}
    assert endpoints.configured_endpoint(*profile(tmp_path, settings)) == "https://services.example.test"
    assert endpoints.configured_endpoint(*profile(tmp_path, {"endpoint_url": "https://profile.example.test"})) == "https://profile.example.test"
    assert endpoints.configured_endpoint(*profile(tmp_path, settings, {"AWS_ENDPOINT_URL": "https://all.example.test"})) == "https://all.example.test"
    both = {"AWS_ENDPOINT_URL": "https://all.example.test", "AWS_ENDPOINT_URL_STS": "https://sts.example.test"}
    assert endpoints.configured_endpoint(*profile(tmp_path, settings, both)) == "https://sts.example.test"
    assert endpoints.configured_endpoint(*profile(tmp_path, {**settings, "ignore_configured_endpoint_urls": "true"}, both)) is None
    assert endpoints.configured_endpoint(*profile(tmp_path, settings, {**both, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"})) is None
    sso = "[services local]\nsso-oidc =\n  endpoint_url = https://oidc.example.test\n"
    assert endpoints.configured_endpoint(*profile(tmp_path, {"services": "local"}, services=sso), service="sso-oidc") == "https://oidc.example.test"
    assert endpoints.configured_endpoint(*profile(tmp_path, {}, {"AWS_ENDPOINT_URL_SSO_OIDC": "https://o.example.test"}), service="sso-oidc") == "https://o.example.test"


def test_a_configured_endpoint_is_signed_for_the_region_in_effect(tmp_path):
    config, section = profile(tmp_path, {"endpoint_url": "https://sts.example.test"})
    assert endpoints.sts_endpoint(config, section) == {"endpoint": "https://sts.example.test", "region": "us-east-1"}
    config, section = profile(tmp_path, {"endpoint_url": "https://sts.example.test", "region": "eu-north-1"})
    assert endpoints.sts_endpoint(config, section) == {"endpoint": "https://sts.example.test", "region": "eu-north-1"}


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"region": "eu-west-1", "sts_regional_endpoints": "sometimes"}, "sts_regional_endpoints = sometimes is not valid"),
        ({"services": "missing"}, "the profile names services = missing, but there is no [services missing] section"),
    ],
)
def test_endpoint_settings_botocore_refuses(tmp_path, settings, message):
    with pytest.raises(ConfigError) as refused:
        endpoints.sts_endpoint(*profile(tmp_path, settings))
    assert str(refused.value).startswith(message)


def test_an_endpoint_carries_the_read_timeout_of_the_run():
    found = Endpoint.of({"endpoint": "https://sts.eu-west-1.amazonaws.com", "region": "eu-west-1"}, {"STSENV_STS_READ_TIMEOUT": "2.5"})
    assert (found.url, found.region, found.read_timeout) == ("https://sts.eu-west-1.amazonaws.com", "eu-west-1", 2.5)
    assert Endpoint.of({"endpoint": "u", "region": "r"}, {}).read_timeout == 10
    with pytest.raises(ConfigError, match="STSENV_STS_READ_TIMEOUT='inf' must be a finite positive number of seconds"):
        Endpoint.of({"endpoint": "u", "region": "r"}, {"STSENV_STS_READ_TIMEOUT": "inf"})
