"""The shared cache: warm calls make no STS call, stale entries are refreshed, odd files are never used."""

import json
import os
import stat
import time


def serve_ok(home, profile="prod"):
    result = home.stsenv("serve", profile)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def only_entry(home):
    (path,) = home.cache.glob("prod.*.json")
    return path


def rewrite_entry(path, **changes):
    entry = json.loads(path.read_text())
    entry.update(changes)
    path.write_text(json.dumps(entry))
    os.chmod(path, 0o600)


def test_warm_serve_makes_no_sts_call(world, home, sts):
    first, _ = serve_ok(home)
    sts.reset_calls()
    for _ in range(3):
        again, _ = serve_ok(home)
        assert again == first
    assert sts.calls() == 0


def test_cache_files_are_private(world, home):
    serve_ok(home)
    assert stat.S_IMODE(home.cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(only_entry(home).stat().st_mode) == 0o600


def test_cache_dir_is_created_0700_even_under_umask_000(world, home):
    old = os.umask(0)
    try:
        serve_ok(home)
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(only_entry(home).stat().st_mode) == 0o600


def test_open_cache_dir_is_repaired_on_write(world, home):
    home.cache.mkdir()
    os.chmod(home.cache, 0o777)
    _, stderr = serve_ok(home)
    assert stat.S_IMODE(home.cache.stat().st_mode) == 0o700
    assert "was mode 0777" in stderr


def test_entry_inside_botocores_refresh_window_is_refreshed(world, home, sts):
    first, _ = serve_ok(home)
    soon = int(time.time()) + 14 * 60  # botocore would refresh this at once
    rewrite_entry(only_entry(home), Expires=soon, Expiration=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon)))
    sts.reset_calls()
    second, _ = serve_ok(home)
    assert sts.calls("AssumeRole") == 1
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert json.loads(only_entry(home).read_text())["Expires"] > time.time() + 50 * 60


def test_expired_entry_is_refreshed(world, home, sts):
    serve_ok(home)
    past = int(time.time()) - 60
    rewrite_entry(only_entry(home), Expires=past, Expiration=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(past)))
    sts.reset_calls()
    output, _ = serve_ok(home)
    assert sts.calls("AssumeRole") == 1
    assert output["Expiration"] > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def test_garbage_entry_is_a_miss_said_once(world, home, sts):
    serve_ok(home)
    path = only_entry(home)
    path.write_text("{not json")
    os.chmod(path, 0o600)
    sts.reset_calls()
    _, stderr = serve_ok(home)
    assert sts.calls("AssumeRole") == 1
    assert stderr.count("ignoring cache file") == 1 and "not JSON" in stderr


def test_world_readable_entry_is_never_used(world, home, sts):
    first, _ = serve_ok(home)
    os.chmod(only_entry(home), 0o644)
    sts.reset_calls()
    second, stderr = serve_ok(home)
    assert "mode is 0644" in stderr
    assert sts.calls("AssumeRole") == 1
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert stat.S_IMODE(only_entry(home).stat().st_mode) == 0o600


def test_symlinked_entry_is_never_followed(world, home, sts, tmp_path):
    first, _ = serve_ok(home)
    path = only_entry(home)
    planted = tmp_path / "planted.json"
    planted.write_text(path.read_text().replace(first["AccessKeyId"], "ASIAPLANTEDPLANTED00"))
    os.chmod(planted, 0o600)
    path.unlink()
    path.symlink_to(planted)
    sts.reset_calls()
    second, stderr = serve_ok(home)
    assert "ASIAPLANTED" not in second["AccessKeyId"]
    assert "ignoring cache file" in stderr
    assert sts.calls("AssumeRole") == 1


def test_entry_for_another_configuration_is_never_used(world, home, sts):
    first, _ = serve_ok(home)
    rewrite_entry(only_entry(home), key="assume-role(role_arn='arn:aws:iam::999999999999:role/Other')")
    sts.reset_calls()
    second, stderr = serve_ok(home)
    assert "another configuration" in stderr
    assert second["AccessKeyId"] != first["AccessKeyId"]


def test_config_change_is_a_different_key(world, home, sts):
    serve_ok(home)
    home.write_config(home.config.read_text().replace("region = eu-west-1", "region = eu-central-1"))
    sts.reset_calls()
    serve_ok(home)
    assert sts.calls("AssumeRole") == 1
    assert len(list(home.cache.glob("prod.*.json"))) == 2


def test_unwritable_cache_dir_is_a_clear_error(world, home):
    home.cache.mkdir(mode=0o700)
    blocker = home.cache / "blocker"
    blocker.write_text("")
    result = home.stsenv("serve", "prod", env={"STSENV_CACHE_DIR": str(blocker / "sub")})
    assert result.returncode == 2
    assert result.stderr.startswith("stsenv: cannot create the cache directory")
    assert "Traceback" not in result.stderr
