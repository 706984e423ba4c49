"""Pause points for the crash tests, kept out of the package: a process started with this directory on its
PYTHONPATH and STSENV_TEST_PAUSE_AT=POINT (tests/reliakit.py's Paused does both) writes
`stsenv-test: paused at POINT (pid N)` to stderr when it reaches POINT and sleeps until the test kills it.

Python imports this module at start-up (site.py imports `sitecustomize`); it wraps the functions where the
points are, so stsenv itself carries no test hook:
- before-sts / after-sts: around the provider call that refreshes a cached source (lock held, cache re-read;
  then new credentials in memory, nothing written);
- write-half: the new entry's temporary file holds half of its text, not yet synced (a writer killed mid-write);
- before-replace: the temporary file complete and synced, not yet renamed onto the entry;
- after-replace: the new entry in place, the lock still held.
"""

import os
import sys
import time

POINT = os.environ.get("STSENV_TEST_PAUSE_AT")


def pause(point):
    if point != POINT:
        return
    sys.stderr.write(f"stsenv-test: paused at {point} (pid {os.getpid()})\n")
    sys.stderr.flush()
    while True:
        time.sleep(3600)


def _is_cache_temporary(path):
    name = os.path.basename(os.fsdecode(path))
    return name.startswith(".tmp-") and name.endswith(".json")


def _wrap_provider_fetch():
    from stsenv import providers

    fetch = providers.fetch

    def paused_fetch(source, signer, options):
        if source.cacheable:
            pause("before-sts")
        fresh = fetch(source, signer, options)
        if source.cacheable:
            pause("after-sts")
        return fresh

    providers.fetch = paused_fetch


def _wrap_file_operations():
    fsync, replace = os.fsync, os.replace

    def paused_fsync(fd):
        if _is_cache_temporary(os.readlink(f"/proc/self/fd/{fd}")) and POINT == "write-half":
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            pause("write-half")
        return fsync(fd)

    def paused_replace(source, destination, **kwargs):
        cached = _is_cache_temporary(source)
        if cached:
            pause("before-replace")
        replace(source, destination, **kwargs)
        if cached:
            pause("after-replace")

    os.fsync, os.replace = paused_fsync, paused_replace


if POINT:
    _wrap_provider_fetch()
    _wrap_file_operations()
