"""`stsenv serve PROFILE`: credential_process output for botocore, the AWS CLI and every SDK.

Run on every AWS call, so on a warm cache it parses the config, reads one file and prints: nothing
else is imported (no boto3, botocore, argparse or json). stsenv.main calls serve() without argparse.
"""

import sys

from stsenv import jsonfast
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.resolution import resolve


def register(commands):
    parser = commands.add_parser("serve", help="print credential_process JSON (use in ~/.aws/config)")
    parser.add_argument("profile")
    parser.set_defaults(func=lambda args: serve(args.profile))


def serve(profile):
    source = resolve(AwsConfig(), profile)
    credentials = Broker(Options(interactive=True)).credentials(source)
    sys.stdout.write(process_json(credentials))
    return 0


def process_json(credentials):
    """credential_process output: Version 1, Expiration with an explicit UTC offset."""
    return jsonfast.dumps_flat(credentials.process_output()) + "\n"
