"""AssumeRoot: a privileged root-task session (900 s at most) on a member account, from the management account."""

from stsenv import sts


def fetch(source, signer, options):
    params = source.params
    return sts.assume_root(
        signer,
        sts.Endpoint.of(params, options.environ),
        TargetPrincipal=params["target_principal"],
        TaskPolicyArn={"arn": params["task_policy_arn"]},
        DurationSeconds=params["duration"],
    )
