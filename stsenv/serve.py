"""`stsenv serve PROFILE`: credential_process output for botocore, the AWS CLI and every SDK.

Run on every AWS call, so on a warm cache it parses the config, reads one file and prints: nothing
else is imported (no boto3, botocore, argparse or json).
"""

import sys

from stsenv import render
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig


def serve(profile):
    source = AwsConfig().resolve(profile)
    credentials = Broker(Options(interactive=True)).credentials(source)
    sys.stdout.write(render.process_json(credentials))
    return 0
