"""Named pause points for the crash tests (tests/test_reliability_crash.py); inert unless a test sets the variable.

`STSENV_TEST_PAUSE_AT=NAME` makes the process that reaches point NAME write
`stsenv-test: paused at NAME (pid N)` to stderr and sleep until it is killed, so a test can SIGKILL it at
exactly that moment. Points (all on the refresh path, none on the warm path): `before-sts` (lock held,
cache re-read), `after-sts` (new credentials in memory, nothing written), `write-half` (half of the new
entry in the temporary file), `before-replace` (temporary file complete and synced), `after-replace`
(new entry in place, lock still held).
"""

import os


def pause(point):
    if os.environ.get("STSENV_TEST_PAUSE_AT") != point:
        return
    import sys
    import time

    sys.stderr.write(f"stsenv-test: paused at {point} (pid {os.getpid()})\n")
    sys.stderr.flush()
    while True:
        time.sleep(3600)
