"""Regional STS endpoints: stsenv sends each profile's calls where botocore would, and the
endpoint is part of the cache key."""

import json

import botocore.loaders
import botocore.session
import pytest

# (settings of a profile, environment): what decides the endpoint in botocore.
CASES = [
    ({}, {}),
    ({"region": "us-east-1"}, {}),
    ({"region": "eu-central-1"}, {}),
    ({"region": "us-east-1", "sts_regional_endpoints": "legacy"}, {}),
    ({"region": "eu-west-1", "sts_regional_endpoints": "legacy"}, {}),
    ({"region": "af-south-1", "sts_regional_endpoints": "legacy"}, {}),
    ({"region": "eu-west-1"}, {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}),
    ({"region": "aws-global"}, {}),
    ({"region": "cn-north-1"}, {}),
    ({"region": "us-gov-west-1"}, {}),
    ({"region": "us-gov-west-1", "use_fips_endpoint": "true"}, {}),
    ({"region": "us-iso-east-1"}, {}),
    ({"region": "eu-isoe-west-1"}, {}),
    ({"region": "us-east-1", "use_fips_endpoint": "true"}, {}),
    ({"region": "us-east-2", "use_dualstack_endpoint": "true"}, {}),
    ({"region": "ca-central-1"}, {"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"}),
    ({"region": "eu-west-1", "endpoint_url": "https://sts.example.test"}, {}),
    ({"region": "eu-west-1", "services": "local"}, {}),
    ({"region": "eu-west-1", "endpoint_url": "https://profile.example.test"}, {"AWS_ENDPOINT_URL": "https://global.example.test"}),
    ({"region": "eu-west-1", "services": "local"}, {"AWS_ENDPOINT_URL_STS": "https://sts-env.example.test"}),
]
SERVICES = "[services local]\nsts =\n  endpoint_url = https://services.example.test\n"
# One loader for every botocore session here: its data files (endpoints, the STS model) are read once.
LOADER = botocore.loaders.create_loader()


def botocore_endpoint(settings, env, tmp_path):
    """Where botocore itself sends GetCallerIdentity for this profile: (URL, signing region)."""
    config = tmp_path / "botocore-config"
    config.write_text("[profile p]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()) + "\n" + SERVICES)
    session = botocore.session.Session(session_vars={"profile": (None, None, "p", None)})
    session.register_component("data_loader", LOADER)
    session.set_config_variable("config_file", str(config))
    for name, value in env.items():  # the environment botocore reads, without touching this process's
        variable = {"AWS_STS_REGIONAL_ENDPOINTS": "sts_regional_endpoints", "AWS_USE_FIPS_ENDPOINT": "use_fips_endpoint", "AWS_USE_DUALSTACK_ENDPOINT": "use_dualstack_endpoint"}.get(name)
        if variable:
            session.set_config_variable(variable, value)
    client_env = {key: value for key, value in env.items() if key.startswith("AWS_ENDPOINT_URL")}
    endpoint_url = client_env.get("AWS_ENDPOINT_URL_STS") or client_env.get("AWS_ENDPOINT_URL")
    client = session.create_client("sts", endpoint_url=endpoint_url, aws_access_key_id="AKIAEXAMPLEEXAMPLE01", aws_secret_access_key="x")
    seen = {}

    def capture(request, **_):
        seen["url"] = request.url.rstrip("/")
        seen["region"] = request.headers["Authorization"].decode().split("Credential=")[1].split("/")[2]
        raise KeyboardInterrupt  # stop before anything is sent

    client.meta.events.register("before-send", capture)
    try:
        client.get_caller_identity()
    except KeyboardInterrupt:
        pass
    return seen["url"], seen["region"]


@pytest.mark.parametrize("settings, env", CASES, ids=[f"{s}-{e}" for s, e in CASES])
def test_endpoint_is_the_one_botocore_uses(world, home, tmp_path, settings, env):
    home.write_config(
        "[profile p]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n"
        + "".join(f"{key} = {value}\n" for key, value in settings.items())
        + "\n"
        + SERVICES
    )
    result = home.stsenv("ls", "--output", "json", env={"AWS_ENDPOINT_URL_STS": "", **env})
    assert result.returncode == 0, result.stderr
    (row,) = [row for row in json.loads(result.stdout) if row["profile"] == "p"]
    assert row["endpoint"] == botocore_endpoint(settings, env, tmp_path)[0]


def test_the_endpoint_is_part_of_the_cache_key(world, home, sts):
    """One profile without a region, used from shells in two regions: two sessions, each signed for its region."""
    home.write_config(f"[profile roaming]\nrole_arn = {world.role_arn}\nsource_profile = base\n")
    for region in ("eu-west-1", "us-west-2", "eu-west-1"):
        assert home.stsenv("use", "roaming", env={"AWS_REGION": region}).returncode == 0
    assert sts.calls("AssumeRole") == 2
    assert len(list(home.cache.glob("roaming.*.json"))) == 2


@pytest.mark.parametrize(
    "line, message",
    [
        ("sts_regional_endpoints = sometimes", "sts_regional_endpoints = sometimes is not valid (use regional or legacy)"),
        ("services = missing", "the profile names services = missing, but there is no [services missing] section"),
    ],
)
def test_endpoint_settings_that_botocore_refuses(world, home, line, message):
    home.write_config(f"[profile p]\nrole_arn = {world.role_arn}\nsource_profile = base\n{line}\n")
    result = home.stsenv("serve", "p", env={"AWS_ENDPOINT_URL_STS": ""})
    assert result.returncode == 2
    assert result.stderr.startswith(f"stsenv: {message}")
