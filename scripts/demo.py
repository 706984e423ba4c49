"""End-to-end demo of stsenv in a throwaway HOME.

Without an AWS account it starts the local STS emulator (tests/localsts.py, moto behind AWS's checks)
on 127.0.0.1, configures a role profile served by stsenv, calls the aws CLI through
`credential_process = stsenv serve prod`, and prints the `stsenv use` block. With
`--profile NAME` it does the same against your real AWS account, serving your existing profile NAME
(read from your own ~/.aws files; nothing there is changed).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def run(env, *argv):
    print(f"\n$ {shlex.join(argv)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, text=True, capture_output=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    print(f"  ({(time.perf_counter() - started) * 1000:.0f} ms, exit {result.returncode})", flush=True)
    if result.returncode != 0:
        sys.exit(result.returncode)
    return result.stdout


def start_emulator(workdir):
    state = os.path.join(workdir, "localsts.json")
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "localsts.py"), "--port", "0", "--state-file", state], stdout=subprocess.PIPE, text=True)
    details = json.loads(server.stdout.readline())
    print(f"local STS emulator at {details['url']} (user 'demo', role {details['role_arn']})")
    return server, details


def local_demo(workdir, env):
    server, details = start_emulator(workdir)
    try:
        home = env["HOME"]
        with open(os.path.join(home, ".aws", "credentials"), "w") as handle:
            handle.write(f"[base]\naws_access_key_id = {details['access_key_id']}\naws_secret_access_key = {details['secret_access_key']}\n")
        env["AWS_ENDPOINT_URL_STS"] = details["url"]
        run(env, "stsenv", "configure", "prod", "--role-arn", details["role_arn"], "--source-profile", "base", "--region", "eu-west-1")
        run(env, "cat", env["AWS_CONFIG_FILE"])
        run(env, "aws", "--profile", "prod", "sts", "get-caller-identity")
        run(env, "aws", "--profile", "prod", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
        run(env, "stsenv", "use", "prod", "--shell", "bash")
        run(env, "stsenv", "ls")
    finally:
        server.terminate()
        server.wait()


def account_demo(env, profile):
    real_home = os.path.expanduser("~")
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", os.path.join(real_home, ".aws", "credentials"))
    config = os.environ.get("AWS_CONFIG_FILE", os.path.join(real_home, ".aws", "config"))
    with open(config) as source, open(env["AWS_CONFIG_FILE"], "w") as copy:
        copy.write(source.read() + f"\n[profile stsenv-demo]\ncredential_process = stsenv serve {profile}\n")
    run(env, "aws", "--profile", "stsenv-demo", "sts", "get-caller-identity")
    run(env, "stsenv", "use", profile, "--shell", "bash")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="serve this profile of your real AWS config instead of the local emulator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stsenv-demo-") as workdir:
        home = os.path.join(workdir, "home")
        os.makedirs(os.path.join(home, ".aws"))
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "STSENV_"))}
        env.update(
            HOME=home,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            AWS_CONFIG_FILE=os.path.join(home, ".aws", "config"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, ".aws", "credentials"),
            STSENV_CACHE_DIR=os.path.join(workdir, "cache"),
            AWS_EC2_METADATA_DISABLED="true",
        )
        if args.profile:
            account_demo(env, args.profile)
        else:
            local_demo(workdir, env)


if __name__ == "__main__":
    main()
