"""The optional session parameters that several STS operations share, from a Source's params:
a session policy, managed policy ARNs, session tags and a source identity."""

from stsenv import validate


def session_parameters(params):
    """API parameters (Policy, PolicyArns, Tags, SourceIdentity) for what `params` carries; None for the rest."""
    return {
        "Policy": validate.compact_policy(params["policy"]) if params.get("policy") else None,
        "PolicyArns": [{"arn": arn} for arn in validate.split_list(params["policy_arns"])] if params.get("policy_arns") else None,
        "Tags": [{"Key": key, "Value": value} for key, value in validate.split_tags(params["tags"])] if params.get("tags") else None,
        "SourceIdentity": params.get("source_identity"),
    }
