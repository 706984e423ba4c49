"""Single-flight refresh: many processes on a cold cache cause exactly one STS call between them."""

import subprocess


def start(home, *args):
    return subprocess.Popen(["stsenv", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=home.env)


def finish(processes):
    results = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr
    return [stdout for stdout, _ in results]


def test_sixteen_cold_serves_make_one_assume_role(world, home, sts):
    outputs = finish([start(home, "serve", "prod") for _ in range(16)])
    assert sts.calls("AssumeRole") == 1
    assert len(set(outputs)) == 1


def test_serves_and_uses_mixed_make_one_assume_role(world, home, sts):
    processes = [start(home, "serve", "prod") if i % 2 else start(home, "use", "prod", "--shell", "bash") for i in range(16)]
    outputs = finish(processes)
    assert sts.calls("AssumeRole") == 1
    keys = {line for output in outputs for line in output.splitlines() if "AWS_ACCESS_KEY_ID" in line or "AccessKeyId" in line}
    access_key_ids = {part for line in keys for part in line.replace("'", '"').split('"') if part.startswith("ASIA")}
    assert len(access_key_ids) == 1


def test_different_profiles_of_one_role_are_cached_apart(world, home, sts):
    finish([start(home, "serve", "prod"), start(home, "serve", "prod-role")])
    assert sts.calls("AssumeRole") == 2
    finish([start(home, "serve", "prod"), start(home, "serve", "prod-role")])
    assert sts.calls("AssumeRole") == 2
