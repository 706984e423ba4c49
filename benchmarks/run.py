"""stsenv's hot paths measured against their floors and against the tools a user would pick instead.

    .venv/bin/python benchmarks/run.py [--runs N] [--quick] [--peers-dir DIR] [--no-peers] [--json FILE] [--hyperfine]
                                         [--only warm,aws,cold,prompt] [--cold-counts 8,32]

Run it with the dev venv's python (`pip install -e '.[test]'`): the local STS is tests/localsts.py (moto) and
the aws CLI case uses the venv's awscli. It makes a temporary HOME with its own AWS config, credentials and
stsenv cache, starts the local STS on 127.0.0.1 in this process, and installs the peers from PyPI into
virtualenvs of their own under --peers-dir (default ~/.cache/stsenv-bench); nothing is installed into the
user's environment and nothing but 127.0.0.1 (and PyPI, through pip) is contacted.

Every case is a process started with posix_spawn and reaped with wait4, its output on /dev/null; the cases of
a group run interleaved in a shuffled order, so that a noisy machine slows all of them alike. Ratios are of
medians measured in the same run. Peak RSS comes from /usr/bin/time, which forks from its own small image:
a child of this (large) process would inherit this process's peak RSS into its own ru_maxrss.
"""

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILE = "prod"
# aws-export-credentials 0.18.0 unpacks botocore's ReadOnlyCredentials into its own 4-field namedtuple; botocore
# 1.37 added account_id to it, and the tool then fails with `Credentials.__new__() takes 5 positional arguments`.
PEER_PACKAGES = {
    "aws-export-credentials": ["aws-export-credentials==0.18.0", "boto3<1.37", "botocore<1.37"],
    "awsume": ["awsume==4.5.4"],
}
SHELLS = ("bash", "zsh", "fish")


def main():
    options = parse_arguments()
    try:
        sys.path.insert(0, os.path.join(REPO, "tests"))
        from localsts import LocalSTS
    except ImportError as error:
        sys.exit(f"benchmarks/run.py needs the test extras ({error}): run it with the dev venv's python")
    stsenv = options.stsenv or find_program("stsenv")
    aws = find_program("aws")
    python = interpreter_of(stsenv)
    workdir = tempfile.mkdtemp(prefix="stsenv-bench-")
    sts = LocalSTS().start()
    try:
        world = World(workdir, sts, stsenv, aws)
        report = Report(machine_info(python, stsenv))
        peers = {} if options.no_peers or "warm" not in options.only else install_peers(options.peers_dir, python, report)
        benches = (
            ("warm", lambda: bench_warm(world, python, peers, options, report)),
            ("aws", lambda: bench_aws_cli(world, options, report)),
            ("cold", lambda: bench_cold(world, python, options, report)),
            ("prompt", lambda: bench_prompt(world, options, report)),
        )
        for name, bench in benches:
            if name not in options.only:
                continue
            try:
                bench()
            except CaseFailed as failure:  # the other groups still run and the table still prints
                report.value(name, f"{name} cases", "failed", passed=False, note=str(failure))
    finally:
        sts.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report.machine["load"] += f" at the start, {load_average().split()[0]} at the end"
    report.show()
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump(report.as_dict(), handle, indent=1)
    return 0 if report.all_passed() else 1


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="runs of each warm case (default 300)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the runs: a smoke test, not a measurement")
    parser.add_argument("--peers-dir", default=os.path.expanduser("~/.cache/stsenv-bench"), help="where the peers' virtualenvs live")
    parser.add_argument("--no-peers", action="store_true", help="skip aws-export-credentials and awsume")
    parser.add_argument("--stsenv", help="the stsenv console script to measure (default: the one beside this python)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--hyperfine", action="store_true", help="also time the warm cases with hyperfine, where it is installed")
    parser.add_argument("--only", default="warm,aws,cold,prompt", type=lambda text: text.split(","), help="groups to run (default warm,aws,cold,prompt)")
    parser.add_argument("--cold-counts", default="8,32", type=lambda text: [int(n) for n in text.split(",")], help="concurrent cold serves to run besides one (default 8,32)")
    options = parser.parse_args()
    unknown = set(options.only) - {"warm", "aws", "cold", "prompt"}
    if unknown:
        parser.error(f"--only: no group {', '.join(sorted(unknown))}")
    if options.quick:
        options.runs = max(10, options.runs // 10)
    options.aws_runs = max(5, options.runs // 10)
    options.cold_rounds = 3 if options.quick else 7
    options.rss_runs = max(5, options.runs // 15)
    options.prompt_renders = 200 if options.quick else 2000
    return options


# ---- the world: a temporary HOME with a user, a role and the profiles every case uses ----------------------


class World:
    """A temporary HOME whose config serves `prod` through stsenv, `prod-role` through botocore's own
    assume-role (for the aws CLI's cache and the peers), and `static` with the user's long-lived keys."""

    def __init__(self, workdir, sts, stsenv, aws):
        self.sts = sts
        self.stsenv = stsenv
        self.aws = aws
        self.home = os.path.join(workdir, "home")
        self.cache = os.path.join(self.home, ".cache", "stsenv")  # the default place: no STSENV_CACHE_DIR
        os.makedirs(os.path.join(self.home, ".aws"))
        user = sts.create_user("alice")
        role_arn = sts.create_role("Admin")
        keys = f"aws_access_key_id = {user['access_key_id']}\naws_secret_access_key = {user['secret_access_key']}\n"
        write(os.path.join(self.home, ".aws", "credentials"), f"[base]\n{keys}\n[static]\n{keys}")
        write(
            os.path.join(self.home, ".aws", "config"),
            f"[profile {PROFILE}]\ncredential_process = stsenv serve {PROFILE}\nstsenv_role_arn = {role_arn}\n"
            "stsenv_source_profile = base\nregion = us-east-1\n\n"
            f"[profile prod-role]\nrole_arn = {role_arn}\nsource_profile = base\nregion = us-east-1\n\n"
            "[profile static]\nregion = us-east-1\n",
        )
        path = [os.path.dirname(stsenv), os.path.dirname(aws) if aws else None, "/usr/local/bin", "/usr/bin", "/bin"]
        # Only what a login shell would have: no PYTHON* variables (PYTHONDONTWRITEBYTECODE would leave stale
        # bytecode uncompiled), no STSENV_CACHE_DIR (the default directory is part of what is measured).
        self.env = {
            "HOME": self.home,
            "PATH": os.pathsep.join(dict.fromkeys(p for p in path if p)),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "USER": "alice",
            "AWS_ENDPOINT_URL_STS": sts.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1",
        }

    def stsenv_argv(self, *words):
        return [self.stsenv, *words]

    def clear_cache(self):
        shutil.rmtree(self.cache, ignore_errors=True)


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


# ---- processes -----------------------------------------------------------------------------------------------

DEVNULL = os.open(os.devnull, os.O_RDWR)
QUIET = [(os.POSIX_SPAWN_DUP2, DEVNULL, 0), (os.POSIX_SPAWN_DUP2, DEVNULL, 1), (os.POSIX_SPAWN_DUP2, DEVNULL, 2)]


def spawn(argv, env):
    """posix_spawn (vfork and exec): the cheapest start there is, whatever this process's size."""
    return os.posix_spawn(argv[0], argv, env, file_actions=QUIET)


def reap(pid):
    """The exit code and the CPU seconds (user + system) the process used."""
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def timed(argv, env):
    """Wall seconds from start to exit, CPU seconds, and the exit code."""
    started = time.perf_counter()
    code, cpu = reap(spawn(argv, env))
    return time.perf_counter() - started, cpu, code


def check(argv, env, name):
    """Run once with output captured; the output, or CaseFailed saying what failed and how."""
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise CaseFailed(f"{name}: `{' '.join(argv)}` exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return result.stdout


class CaseFailed(Exception):
    pass


def find_program(name):
    beside = os.path.join(os.path.dirname(sys.executable), name)
    found = beside if os.access(beside, os.X_OK) else shutil.which(name)
    if name == "stsenv" and not found:
        sys.exit("no stsenv console script found: pip install -e '.[test]' in this venv first")
    return found


def usable_cpus():
    """The CPUs this process (and so every case) may run on: fewer than the machine's under `taskset`."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def interpreter_of(script):
    """The python in a console script's `#!` line: the floor is that interpreter starting and doing nothing."""
    with open(script, "rb") as handle:
        first = handle.readline().decode()
    if first.startswith("#!") and "python" in first:
        return first[2:].split()[0]
    return sys.executable


def interleaved(cases, env, runs, warmup=3, cpu=None):
    """{name: [wall seconds, ...]} for cases {name: argv}, each round in a new random order; CPU seconds go
    into `cpu` ({name: [...]}) when it is given."""
    samples = {name: [] for name in cases}
    for name, argv in cases.items():
        for _ in range(warmup):  # compiles bytecode, fills the page cache
            timed(argv, env)
    order = list(cases)
    for _ in range(runs):
        random.shuffle(order)
        for name in order:
            seconds, used, code = timed(cases[name], env)
            if code != 0:
                check(cases[name], env, name)  # says why
                raise CaseFailed(f"{name} exited {code} during the runs")
            samples[name].append(seconds)
            if cpu is not None:
                cpu.setdefault(name, []).append(used)
    return samples


def peak_rss_kib(argv, env, runs):
    """Median peak RSS (KiB) under /usr/bin/time, or None where there is no GNU or BSD time."""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    values = []
    with tempfile.NamedTemporaryFile("r") as output:
        for _ in range(runs):
            gnu = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", output.name, *argv], env=env, capture_output=True)
            if gnu.returncode == 0:
                output.seek(0)
                values.append(int(output.read().split()[-1]))
                continue
            bsd = subprocess.run(["/usr/bin/time", "-l", *argv], env=env, capture_output=True, text=True)
            line = next((l for l in bsd.stderr.splitlines() if "maximum resident set size" in l), None)
            if bsd.returncode != 0 or line is None:
                return None
            values.append(int(line.split()[0]) // 1024)  # bytes on macOS
    return median(values)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


# ---- the report ------------------------------------------------------------------------------------------------


class Report:
    def __init__(self, machine):
        self.machine = machine
        self.rows = []
        self.notes = []

    def timing(self, section, case, samples, floor_samples=None, target=None, note=""):
        """A row in ms: median, p90, the floor's median, their ratio, and pass/fail against `target` (a ratio)."""
        row = {"section": section, "case": case, "median": median(samples) * 1000, "p90": p90(samples) * 1000, "note": note}
        if floor_samples is not None:
            row["floor"] = median(floor_samples) * 1000
            row["ratio"] = row["median"] / row["floor"]
        if target is not None:
            row["target"] = f"≤ {target:.2f}×"
            row["passed"] = row["ratio"] <= target
        self.rows.append(row)

    def value(self, section, case, shown, target=None, passed=None, note=""):
        self.rows.append({"section": section, "case": case, "shown": shown, "target": target, "passed": passed, "note": note})

    def note(self, text):
        self.notes.append(text)
        print(f"  note: {text}", file=sys.stderr)

    def all_passed(self):
        return all(row.get("passed") is not False for row in self.rows)

    def as_dict(self):
        return {"machine": self.machine, "rows": self.rows, "notes": self.notes}

    def show(self):
        print()
        for key, value in self.machine.items():
            print(f"{key}: {value}")
        print()
        header = ("case", "median", "p90", "floor", "ratio", "target", "result")
        lines = [header]
        for row in self.rows:
            if "shown" in row:
                cells = (row["case"], row["shown"], "", "", "", row.get("target") or "", _verdict(row.get("passed")))
            else:
                cells = (
                    row["case"],
                    f"{row['median']:.2f} ms",
                    f"{row['p90']:.2f} ms",
                    f"{row['floor']:.2f} ms" if "floor" in row else "",
                    f"{row['ratio']:.3f}×" if "ratio" in row else "",
                    row.get("target") or "",
                    _verdict(row.get("passed")),
                )
            lines.append(cells)
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for index, line in enumerate(lines):
            print("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + " |")
            if index == 0:
                print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
        notes = [f"{row['case']}: {row['note']}" for row in self.rows if row.get("note")] + self.notes
        if notes:
            print()
            for text in notes:
                print(f"- {text}")


def _verdict(passed):
    return {True: "pass", False: "FAIL", None: ""}[passed]


def machine_info(python, stsenv):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    return {
        "machine": f"{cpu}, {usable_cpus()} logical CPUs usable of {os.cpu_count()}, {platform.system()} {platform.release()}",
        "python": f"{version} ({python})",
        "stsenv": f"{stsenv} at {commit or 'an unknown commit'}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": load_average(),
    }


def load_average():
    """The 1-minute load average: what else this machine was doing, which the ratios cannot show."""
    try:
        return f"{os.getloadavg()[0]:.2f} (1-minute load average)"
    except OSError:
        return "unknown"


# ---- peers -------------------------------------------------------------------------------------------------


def install_peers(peers_dir, python, report):
    """{name: bin directory} of the peers, each in its own virtualenv on `python` (the floor's interpreter);
    a peer that cannot be installed is left out with the reason printed."""
    installed = {}
    for name, requirements in PEER_PACKAGES.items():
        home = os.path.join(peers_dir, name)
        stamp = os.path.join(home, "stsenv-bench-installed")
        wanted = " ".join(requirements)
        try:
            with open(stamp, encoding="utf-8") as handle:
                ready = handle.read() == wanted
        except OSError:
            ready = False
        if not ready:
            print(f"installing {wanted} into {home} ...", file=sys.stderr)
            shutil.rmtree(home, ignore_errors=True)
            made = subprocess.run([python, "-m", "venv", home], capture_output=True, text=True)
            if made.returncode != 0:
                report.note(f"{name} skipped: cannot make a virtualenv: {made.stderr.strip()[-300:]}")
                continue
            pip = subprocess.run(
                [os.path.join(home, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
                capture_output=True,
                text=True,
            )
            if pip.returncode != 0:
                report.note(f"{name} skipped: pip could not install it (is PyPI reachable?): {pip.stderr.strip()[-300:]}")
                continue
            write(stamp, wanted)
        installed[name] = os.path.join(home, "bin")
    return installed


# ---- the cases ------------------------------------------------------------------------------------------------


def bench_warm(world, python, peers, options, report):
    """Warm `serve` and `use` against `python -c pass` on the same interpreter, and the peers' warm paths."""
    print("warm paths ...", file=sys.stderr)
    env = world.env
    serve = world.stsenv_argv("serve", PROFILE)
    use = world.stsenv_argv("use", PROFILE, "--shell", "bash")
    check(serve, env, "warm serve")  # fills the cache: from here on every run is warm
    cases = {"floor": [python, "-c", "pass"], "serve": serve, "use": use}
    labels, peer_notes = {}, {}
    for name, (argv, label, note) in peer_cases(world, peers).items():
        try:
            check(argv, env, name)
        except CaseFailed as error:
            report.value("peers", label, "fails", note=str(error))
            continue
        cases[name], labels[name], peer_notes[name] = argv, label, note
    peer_runs = {name: argv for name, argv in cases.items() if name in peers}
    own = {name: cases[name] for name in ("floor", "serve", "use")}
    cpu = {}
    samples = interleaved(own, env, options.runs, cpu=cpu)
    report.timing("warm", "python -c pass (floor)", samples["floor"])
    report.timing("warm", f"stsenv serve {PROFILE}", samples["serve"], samples["floor"], target=1.15)
    report.timing("warm", f"stsenv use {PROFILE}", samples["use"], samples["floor"], target=1.20)
    # CPU time (user + system) is what the process itself costs; wall time also holds the waits for a CPU
    # that a loaded machine adds, which is why it is shown beside it (no target).
    report.timing("warm", "python -c pass, CPU time (floor)", cpu["floor"])
    report.timing("warm", f"stsenv serve {PROFILE}, CPU time", cpu["serve"], cpu["floor"])
    report.timing("warm", f"stsenv use {PROFILE}, CPU time", cpu["use"], cpu["floor"])
    if options.hyperfine:
        hyperfine_rows(own, env, options.runs, report)
    if peer_runs:  # fewer runs: each takes tens of times longer, and they do not change what passes
        peer_samples = interleaved({"floor": cases["floor"], **peer_runs}, env, max(5, options.runs // 10))
        for name in peer_runs:
            report.timing("peers", labels[name], peer_samples[name], peer_samples["floor"], note=peer_notes[name])
    floor_rss = peak_rss_kib(cases["floor"], env, options.rss_runs)
    if floor_rss is None:
        report.value("rss", "peak RSS", "n/a", note="no /usr/bin/time to measure it with")
        return
    for name, label, target in (("serve", f"stsenv serve {PROFILE}", 1.2), ("use", f"stsenv use {PROFILE}", None), *((n, n, None) for n in peer_runs)):
        rss = peak_rss_kib(cases[name], env, options.rss_runs)
        ratio = rss / floor_rss
        report.value(
            "rss",
            f"peak RSS: {label}",
            f"{rss / 1024:.1f} MiB vs {floor_rss / 1024:.1f} MiB = {ratio:.2f}×",
            target=f"≤ {target:.2f}×" if target else None,
            passed=(ratio <= target) if target else None,
        )


def peer_cases(world, peers):
    """{name: (argv, label, note)}: how each installed peer runs its warm path, as `serve` or `use` would."""
    found = {}
    if "aws-export-credentials" in peers:
        cache_file = os.path.join(world.home, "aws-export-credentials.json")
        found["aws-export-credentials"] = (
            [os.path.join(peers["aws-export-credentials"], "aws-export-credentials"), "--profile", "prod-role", "--json", "--cache-file", cache_file],
            "aws-export-credentials --json",
            "`--json --cache-file` (its own cache) on a botocore role profile; boto3/botocore pinned below 1.37",
        )
    if "awsume" in peers:
        # awsume cannot be a credential_process; `awsumepy PROFILE` is the process behind `awsume PROFILE`,
        # its `use`. It caches only MFA sessions, so every run calls AssumeRole.
        found["awsume"] = (
            [os.path.join(peers["awsume"], "awsumepy"), "prod-role"],
            "awsumepy prod-role",
            "`awsumepy prod-role` (what `awsume prod-role` runs); no role cache, so one AssumeRole per run",
        )
    return found


def hyperfine_rows(cases, env, runs, report):
    """The same warm cases timed by hyperfine (no shell, its own warmup), as a cross-check of this script."""
    hyperfine = shutil.which("hyperfine", path=env["PATH"]) or shutil.which("hyperfine")
    if not hyperfine:
        report.note("--hyperfine: hyperfine is not installed; the table above is this script's own timing")
        return
    with tempfile.TemporaryDirectory() as scratch:
        exported = os.path.join(scratch, "hyperfine.json")
        commands = [" ".join(argv) for argv in cases.values()]
        subprocess.run(
            [hyperfine, "-N", "--warmup", "5", "--runs", str(runs), "--export-json", exported, *commands],
            env=env,
            check=True,
            capture_output=True,
        )
        with open(exported, encoding="utf-8") as handle:
            results = json.load(handle)["results"]
    times = {name: result["times"] for name, result in zip(cases, results)}
    for name in cases:
        if name != "floor":
            report.timing("warm", f"stsenv {' '.join(cases[name][1:])} (hyperfine)", times[name], times["floor"])


def bench_aws_cli(world, options, report):
    """The aws CLI through `credential_process = stsenv serve` against the same call with static keys."""
    if not world.aws:
        report.value("aws", "aws CLI", "skipped", note="no aws CLI beside this python or on PATH")
        return
    print("aws CLI ...", file=sys.stderr)
    call = ["sts", "get-caller-identity", "--output", "json"]
    cases = {
        "static": [world.aws, "--profile", "static", *call],
        "stsenv": [world.aws, "--profile", PROFILE, *call],
        "botocore": [world.aws, "--profile", "prod-role", *call],
    }
    for name, argv in cases.items():
        check(argv, world.env, f"aws CLI ({name})")
    samples = interleaved(cases, world.env, options.aws_runs, warmup=1)
    report.timing("aws", "aws sts get-caller-identity, static keys (floor)", samples["static"])
    report.timing("aws", "aws ... through credential_process = stsenv serve", samples["stsenv"], samples["static"], target=1.10)
    report.timing(
        "aws",
        "aws ... role_arn + source_profile (the CLI's own cache)",
        samples["botocore"],
        samples["static"],
        note="botocore's assume-role provider with ~/.aws/cli/cache, for comparison",
    )


def bench_cold(world, python, options, report):
    """N cold serves at once: one AssumeRole between them, and the last one done soon after a lone one.

    All N start at the same moment: each waits behind a gate (a `sh` blocked reading a pipe) and execs
    `stsenv serve` when the pipe is closed, so this process's own spawning (starved of CPU by the
    children it already started) does not stagger them.

    With more processes than CPUs, the one that calls STS shares the CPUs with the others' interpreter
    starts, whatever they do after. So each N also runs its floor: one cold serve started together with
    N-1 `python -c pass`, waiters that cost nothing but an interpreter and never wait. No way of waiting
    can make the last serve done sooner than that serve is.
    """
    print("cold serves ...", file=sys.stderr)
    serve = world.stsenv_argv("serve", PROFILE)
    idle = [python, "-c", "pass"]
    finished = {}  # (kind, count) -> seconds until the serve(s) were done, per round
    for count in sorted({1, *options.cold_counts}):
        finished["serves", count], finished["floor", count], calls = [], [], set()
        for _ in range(options.cold_rounds):
            for kind in random.sample(["serves", "floor"], 2) if count > 1 else ["serves"]:
                world.clear_cache()
                world.sts.reset_calls()
                commands = [serve] * count if kind == "serves" else [serve] + [idle] * (count - 1)
                watched = len(commands) if kind == "serves" else 1
                seconds, codes = start_together(commands, world.env, watched)
                finished[kind, count].append(seconds)
                if any(codes):
                    check(serve, world.env, f"cold serve x{count}")
                    raise CaseFailed(f"cold serve x{count}: exit codes {sorted(set(codes))}")
                if kind == "serves":
                    calls.add(world.sts.calls("AssumeRole"))
        single = finished["serves", 1]
        if count == 1:
            report.timing("cold", "cold: 1 serve alone, done (floor)", single)
        else:
            floor = finished["floor", count]
            report.timing("cold", f"cold: 1 serve among {count - 1} python -c pass, done", floor, single)
            report.timing(
                "cold",
                f"cold: {count} concurrent serves, last done",
                finished["serves", count],
                single,
                target=1.5,
                note=f"{median(finished['serves', count]) / median(floor):.2f}× the time of one serve among {count - 1} python -c pass "
                f"(the row above) on {usable_cpus()} CPUs: what the waiting itself adds",
            )
        made = sorted(calls)
        report.value("cold", f"cold: {count} concurrent, AssumeRole calls per round", ", ".join(map(str, made)), target="1", passed=made == [1])


def start_together(commands, env, watched):
    """Start every command at the same moment; seconds until the first `watched` of them have ended, and
    every exit code."""
    gate, opener = os.pipe()
    gated = ["/bin/sh", "-c", 'read _ <&3; exec "$0" "$@"']
    pids = [os.posix_spawn(gated[0], gated + command, env, file_actions=[*QUIET, (os.POSIX_SPAWN_DUP2, gate, 3)]) for command in commands]
    os.close(gate)
    time.sleep(0.2)  # every `sh` is up and blocked on the gate
    started = time.perf_counter()
    os.close(opener)  # end of file: every `read` returns at once
    codes = [reap(pid)[0] for pid in pids[:watched]]
    seconds = time.perf_counter() - started
    codes += [reap(pid)[0] for pid in pids[watched:]]
    return seconds, codes


# One prompt, `renders` times, in a shell without rc files after `stsenv init SHELL --prompt` and `stsenv use`:
# the hooks the shell runs before a prompt (stsenv's are the only ones) and the expansion of the stsenv
# segment. Prints microseconds per render. {stsenv} and {renders} are filled in.
PROMPT_SCRIPTS = {
    "bash": """
eval "$({stsenv} init bash --prompt)"
eval "$({stsenv} use prod --shell bash)"
renders={renders}
start=${{EPOCHREALTIME/[.,]/}}
for ((i = 0; i < renders; i++)); do
    for hook in "${{PROMPT_COMMAND[@]}}"; do eval "$hook"; done
    shown=${{PS1@P}}
done
end=${{EPOCHREALTIME/[.,]/}}
if ((renders)); then echo $(( (end - start) / renders )); fi
""",
    "zsh": """
zmodload zsh/datetime
eval "$({stsenv} init zsh --prompt)"
eval "$({stsenv} use prod --shell zsh)"
renders={renders}
start=$EPOCHREALTIME
for ((i = 0; i < renders; i++)); do
    for hook in $precmd_functions; do $hook; done
    shown=${{(%)PROMPT}}
done
end=$EPOCHREALTIME
if ((renders)); then printf '%d\\n' $(( (end - start) * 1000000 / renders )); fi
""",
    # fish: `emit fish_prompt` runs the event handlers; the prompt function itself is not called, because
    # fish's default one asks git about the directory, in processes that are not stsenv's.
    "fish": """
{stsenv} init fish --prompt | source
{stsenv} use prod --shell fish | source
set renders {renders}
set start (date +%s%N)
for i in (seq $renders)
    emit fish_prompt
    set shown "$STSENV_PROMPT "
end
set end (date +%s%N)
if test $renders -gt 0
    math --scale 0 "($end - $start) / 1000 / $renders"
end
""",
}
NO_RC = {"bash": ["--norc", "--noprofile"], "zsh": ["-f"], "fish": ["--no-config"]}


def bench_prompt(world, options, report):
    """Each shell's prompt while the credentials are fresh: processes started (strace) and µs per render."""
    print("prompt hooks ...", file=sys.stderr)
    strace = shutil.which("strace")
    for shell in SHELLS:
        program = shutil.which(shell)
        if not program:
            report.value("prompt", f"prompt render, {shell}", "skipped", note=f"{shell} is not installed")
            continue
        init = subprocess.run([world.stsenv, "init", shell], env=world.env, capture_output=True, text=True)
        if init.returncode != 0:
            report.value("prompt", f"prompt render, {shell}", "skipped", note=f"`stsenv init {shell}` failed: {init.stderr.strip()[-200:]}")
            continue

        def run(renders, traced=None):
            script = PROMPT_SCRIPTS[shell].format(stsenv=world.stsenv, renders=renders)
            prefix = [strace, "-f", "-qq", "-e", "trace=fork,vfork,clone,clone3,execve", "-o", traced] if traced else []
            result = subprocess.run(
                [*prefix, program, *NO_RC[shell], "-c", script], env=world.env, capture_output=True, text=True, timeout=600
            )
            if result.returncode != 0:
                raise CaseFailed(f"prompt script for {shell} exited {result.returncode}: {result.stderr.strip()[-300:]}")
            return result.stdout.strip()

        try:
            micros = [int(run(options.prompt_renders).split()[-1]) for _ in range(3)]
            processes = None
            if strace:
                with tempfile.TemporaryDirectory() as scratch:
                    counts = []
                    for renders in (0, 100):
                        log = os.path.join(scratch, f"{renders}.log")
                        run(renders, traced=log)
                        with open(log, encoding="utf-8") as handle:
                            counts.append(sum(1 for line in handle if _starts_process(line)))
                    processes = (counts[1] - counts[0]) / 100
        except (CaseFailed, ValueError, IndexError) as error:
            report.value("prompt", f"prompt render, {shell}", "fails", note=str(error))
            continue
        shown = f"{median(micros):.0f} µs per render"
        if processes is None:
            report.value("prompt", f"prompt render, {shell}", shown, note="no strace: processes per prompt not counted")
            continue
        report.value(
            "prompt",
            f"prompt render, {shell}: processes per prompt, cost",
            f"{processes:g} processes, {shown}",
            target="0 processes, < 1000 µs",
            passed=processes == 0 and median(micros) < 1000,
        )


def _starts_process(strace_line):
    """A fork, vfork or clone of a process (not of a thread), counted once (not again when `resumed`)."""
    if "resumed>" in strace_line or "CLONE_THREAD" in strace_line:
        return False
    return any(call in strace_line for call in (" clone(", " clone3(", " fork(", " vfork("))


if __name__ == "__main__":
    sys.exit(main())
