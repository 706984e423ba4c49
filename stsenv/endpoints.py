"""Where a profile's AWS calls go, by botocore's rules: its region and partition, and the endpoint of a
service (STS; the SSO services too), from the environment, the `[services]` section, the profile's
endpoint_url, or the regional endpoint of the region's partition.

Read on the warm path (the endpoint is part of a cache key): no boto3.
"""

from stsenv import inifile
from stsenv.errors import ConfigError

# botocore's "legacy" sts_regional_endpoints mode sends these regions to the global endpoint.
LEGACY_GLOBAL_REGIONS = frozenset(
    "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 aws-global ca-central-1 eu-central-1 eu-north-1 "
    "eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2".split()
)
# (region prefix, partition, DNS suffix, dual-stack DNS suffix) of the partitions other than aws (botocore's
# partitions.json); AWS_PARTITION for every other region.
PARTITIONS = (
    ("cn-", "aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    ("us-gov-", "aws-us-gov", "amazonaws.com", "api.aws"),
    ("us-iso-", "aws-iso", "c2s.ic.gov", "api.aws.ic.gov"),
    ("us-isob-", "aws-iso-b", "sc2s.sgov.gov", "api.aws.scloud"),
    ("us-isof-", "aws-iso-f", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    ("eu-isoe-", "aws-iso-e", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
    ("eusc-", "aws-eusc", "amazonaws.eu", "api.amazonwebservices.eu"),
)
AWS_PARTITION = ("", "aws", "amazonaws.com", "api.aws")
# `stsenv use` exports the region of a profile that names one as AWS_REGION and AWS_DEFAULT_REGION, and
# beside them the value it set (REGION_MARKER) and what the user had before (USER_REGION_PREFIX + name,
# unset when the user had none), so that it can give the user's own values back and never reads its own
# export as the user's region (see user_regions).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
REGION_MARKER = "STSENV_REGION"
USER_REGION_PREFIX = "STSENV_USER_"


def user_regions(environ):
    """{"AWS_REGION": value or None, "AWS_DEFAULT_REGION": ...} as the user has them in `environ`.

    A variable still holding the value `stsenv use` exported (REGION_MARKER) is stsenv's: the user's value is
    the one saved beside it. Any other value, or none, is the user's own, set after `use` or without it.
    """
    exported = environ.get(REGION_MARKER)
    found = {}
    for name in REGION_VARIABLES:
        value = environ.get(name)
        if exported is not None and value == exported:
            value = environ.get(USER_REGION_PREFIX + name)
        found[name] = value
    return found


def region(config, section):
    """The profile's region, else the user's AWS_REGION, else the user's AWS_DEFAULT_REGION.

    botocore puts AWS_DEFAULT_REGION first, but a region `stsenv use` exported for the profile in use must
    not decide the endpoint of the next profile: the user's values are read, not stsenv's (user_regions).
    """
    users = user_regions(config.environ)
    found = config.value(section, "region") or users["AWS_REGION"] or users["AWS_DEFAULT_REGION"]
    problem = found and region_problem(found)
    if problem:
        raise ConfigError(problem, "use a name such as eu-west-1")
    return found


def region_problem(name):
    """Why `name` is not a region name (letters, digits and inner hyphens, at most 63), or None."""
    if name.replace("-", "").isalnum() and name.isascii() and name[0] != "-" and len(name) <= 63:
        return None
    from stsenv.oneline import quoted  # a value from a file or a flag: cut, escaped

    return f"region {quoted(name)} is not a region name"


def partition_row(name):
    """The row of PARTITIONS (or AWS_PARTITION) of region `name`."""
    return next((row for row in PARTITIONS if (name or "").startswith(row[0])), AWS_PARTITION)


def partition(config, section):
    """The partition of the profile's region (aws without one): where STS credentials are valid."""
    return partition_of(region(config, section))


def partition_of(region_name):
    """The partition region `region_name` belongs to (aws for None)."""
    return partition_row(region_name)[1]


def sts_endpoint(config, section):
    """{"endpoint": url, "region": signing region} for STS calls made for this profile, as botocore picks them.

    A configured URL wins (configured_endpoint). Otherwise the regional endpoint of the region's partition,
    with FIPS and dual-stack variants; the global one without a region, for `aws-global`, or under
    `sts_regional_endpoints = legacy` for the legacy regions.
    """
    name = region(config, section)
    url = configured_endpoint(config, section)
    if url:
        return {"endpoint": url, "region": name or "us-east-1"}
    mode = config.setting(section, "sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS") or "regional"
    if mode not in ("regional", "legacy"):
        from stsenv.oneline import oneline

        raise ConfigError(f"sts_regional_endpoints = {oneline(mode, 100)} is not valid", "use regional or legacy")
    fips, dualstack = endpoint_variants(config, section)
    if name is None or not (fips or dualstack) and (name == "aws-global" or mode == "legacy" and name in LEGACY_GLOBAL_REGIONS):
        return {"endpoint": "https://sts.amazonaws.com", "region": "us-east-1"}
    return {"endpoint": regional_url("sts", name, fips, dualstack), "region": "us-east-1" if name == "aws-global" else name}


def endpoint_variants(config, section):
    """(fips, dual-stack): use_fips_endpoint and use_dualstack_endpoint of the profile or the environment."""
    fips = config.setting(section, "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT") or ""
    dualstack = config.setting(section, "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT") or ""
    return fips.lower() == "true", dualstack.lower() == "true"


def regional_url(prefix, name, fips, dualstack):
    """`https://PREFIX.REGION.DNS-SUFFIX` as the rule sets of STS, SSO and SSO OIDC build it: PREFIX-fips for FIPS
    (except in GovCloud without dual-stack, whose plain endpoint is FIPS already), the partition's dual-stack
    suffix (api.aws) for dual-stack."""
    _, _, dns, dualstack_dns = partition_row(name)
    fips_host = fips and (dualstack or not name.startswith("us-gov-"))
    return f"https://{prefix}{'-fips' if fips_host else ''}.{name}.{dualstack_dns if dualstack else dns}"


def configured_endpoint(config, section, service="sts"):
    """The endpoint URL configured for `service` (its `[services]` name and AWS_ENDPOINT_URL_<NAME>), or None.

    In botocore's order: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the `[services]` section's
    `service = endpoint_url = ...`, the profile's endpoint_url; none of them under
    ignore_configured_endpoint_urls.
    """
    ignore = config.setting(section, "ignore_configured_endpoint_urls", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    if (ignore or "").lower() == "true":
        return None
    services_name = config.value(section, "services")
    if services_name and services_name not in config.services:
        from stsenv.oneline import oneline

        services_name = oneline(services_name, 100)
        raise ConfigError(
            f"the profile names services = {services_name}, but there is no [services {services_name}] section",
            f"add the section to {config.config_path} or remove the services line",
        )
    nested = inifile.nested(config.services.get(services_name or "", {}).get(service, ""))
    variable = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    return (
        config.environ.get(variable)
        or config.environ.get("AWS_ENDPOINT_URL")
        or nested.get("endpoint_url")
        or config.value(section, "endpoint_url")
    )
