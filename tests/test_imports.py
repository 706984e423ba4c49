"""Import discipline of the warm path: what a warm `stsenv serve` and `stsenv use` load, through the installed
console script, beyond what the interpreter itself loads for `python -c pass`.

Every module costs 0.05 ms (one of ours) to 30 ms (filelock) or 120 ms (boto3) on every AWS call, so the
warm path must load only stsenv's own modules. PYTHONPROFILEIMPORTTIME makes the real process list each
module as it is imported, with nothing of ours changed. No timing is asserted here: benchmarks/run.py does that.
"""

import os
import subprocess
import sys

import pytest

# The brief's list: each of these has been on the warm path once, or would be by an innocent `import`.
FORBIDDEN = {
    "boto3",
    "botocore",
    "argparse",
    "json",
    "_json",
    "re",
    "platformdirs",
    "filelock",
    "logging",
    "importlib.metadata",
    "importlib.util",
    "contextlib",
    "subprocess",
    "tempfile",
    "datetime",
    "typing",
}
# Modules outside stsenv the warm path may load, each with why it is cheap enough.
ALLOWED_OUTSIDE_STSENV = {
    "atexit": "a built-in module: main.run() runs the atexit callbacks before skipping the teardown",
    "pwd": "a built-in module (about 0.04 ms): the default session name is the passwd entry of the uid, not $USER",
}


def imported_modules(stderr):
    """Module names from PYTHONPROFILEIMPORTTIME's `import time: self | cumulative | name` lines."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name)
    return names


def interpreter_floor(home):
    """What `python -c pass` imports in this environment (site, .pth files, sitecustomize)."""
    result = subprocess.run(
        [sys.executable, "-c", "pass"], capture_output=True, text=True, env={**home.env, "PYTHONPROFILEIMPORTTIME": "1"}
    )
    assert result.returncode == 0, result.stderr
    return imported_modules(result.stderr)


def warm_run(home, *args):
    """The modules a warm run of the console script adds to the interpreter's own."""
    cold = home.stsenv(*args)
    assert cold.returncode == 0, cold.stderr
    warm = home.stsenv(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == cold.stdout, "the second run must be served from the cache"
    loaded = imported_modules(warm.stderr)
    assert "stsenv.main" in loaded, "PYTHONPROFILEIMPORTTIME listed nothing: is this CPython?"
    return loaded - interpreter_floor(home)


@pytest.mark.parametrize(
    "args",
    [("serve", "prod"), ("use", "prod", "--shell", "bash"), ("use", "prod", "--format", "json", "--non-interactive")],
    ids=["serve", "use", "use-json"],
)
def test_warm_path_loads_only_stsenv(world, home, args):
    added = warm_run(home, *args)
    assert not added & FORBIDDEN, f"the warm path imported {sorted(added & FORBIDDEN)}"
    outside = {name for name in added if name != "stsenv" and not name.startswith("stsenv.")} - set(ALLOWED_OUTSIDE_STSENV)
    assert not outside, (
        f"the warm path imported {sorted(outside)}: import it where it is used (off the warm path), "
        "or add it to ALLOWED_OUTSIDE_STSENV with the reason it is cheap"
    )


def test_warm_serve_does_not_load_the_cold_path(world, home):
    added = warm_run(home, "serve", "prod")
    cold_only = {"stsenv.cli", "stsenv.lock", "stsenv.sts", "stsenv.providers", "stsenv.terminal", "stsenv.mfa"}
    assert not added & cold_only, f"a warm serve loaded {sorted(added & cold_only)}"


def test_console_script_is_the_light_one(world, home):
    """Not the wrapper installers write for an entry point (it imports `re`, more than a warm serve costs)."""
    script = os.path.join(os.path.dirname(sys.executable), "stsenv")
    with open(script, encoding="utf-8") as handle:
        text = handle.read()
    code = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert code == ["from stsenv.main import run", "run()"], code


def test_python_dash_m_serves_the_same(world, home):
    """`python -m stsenv` is the entry point where no console script can be installed."""
    console = home.stsenv("serve", "prod")
    module = subprocess.run([sys.executable, "-m", "stsenv", "serve", "prod"], capture_output=True, text=True, env=home.env)
    assert console.returncode == module.returncode == 0, module.stderr
    assert module.stdout == console.stdout
