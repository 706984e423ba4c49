"""stsenv's SSO layer in a process of its own, as the commands will run it once it is wired into the table of
kinds (docs/sso-integration.md), for the tests that need real processes (concurrency, login, exit codes):

    python tests/ssodriver.py serve PROFILE                credential_process JSON, through stsenv's Broker
    python tests/ssodriver.py token PROFILE                renewal.access_token; prints its sha256, not the token
    python tests/ssodriver.py login PROFILE [--no-browser] [--force]
    python tests/ssodriver.py login-session SESSION [--no-browser]

`serve` registers the provider under the kind "sso" here, standing in for the row the lead adds. With
SSODRIVER_GO=PATH the process waits for PATH to exist before it starts, so that a test can release many at
once. A failure is one `stsenv:` line on stderr and the error's exit code, as stsenv.entry reports them.
"""

import hashlib
import os
import sys
import time


def main(argv):
    go = os.environ.get("SSODRIVER_GO")
    if go:
        while not os.path.exists(go):
            time.sleep(0.005)
    from stsenv.config import AwsConfig
    from stsenv.errors import StsenvError
    from stsenv.oneline import oneline
    from stsenv.sso import settings as sso_settings

    command, name, flags = argv[0], argv[1], set(argv[2:])
    try:
        config = AwsConfig()
        sessions = sso_settings.read_sessions(config.config_path)
        if command == "login-session":
            settings = sso_settings.session_settings(config, name, sessions)
        else:
            settings = sso_settings.profile_settings(config, name, sessions)
        if command == "serve":
            return serve(settings)
        if command == "token":
            from stsenv.sso import renewal

            print(hashlib.sha256(renewal.access_token(settings, os.environ).encode()).hexdigest())
            return 0
        from stsenv.sso import device_login

        result = device_login.login(settings, no_browser="--no-browser" in flags, force="--force" in flags)
        print(f"{'signed in' if result.signed_in else 'already signed in'} until {result.expiration}: {result.path}")
        return 0
    except StsenvError as error:
        sys.stderr.writelines(f"stsenv: {oneline(line, 2000)}\n" for line in error.lines())
        return error.exit_code


def serve(settings):
    from stsenv import providers, render
    from stsenv.broker import Broker, Options
    from stsenv.source import Source
    from stsenv.sso.settings import source_parts

    providers.MODULES.setdefault("sso", "sso")  # the lead's row in the table of kinds
    params, private = source_parts(settings)
    source = Source("sso", settings.profile, params, private=private)
    credentials = Broker(Options(interactive=False)).credentials(source)
    sys.stdout.write(render.process_json(credentials))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
