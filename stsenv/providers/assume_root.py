"""AssumeRoot: a privileged root-task session (900 s at most) on a member account, from the management account."""

from stsenv import sts
from stsenv.endpoints import Endpoint


def fetch(source, signer, options):
    params = source.params
    return sts.assume_root(
        signer,
        Endpoint.of(params, options.environ),
        TargetPrincipal=params["target_principal"],
        TaskPolicyArn={"arn": params["task_policy_arn"]},
        DurationSeconds=params["duration"],
    )
