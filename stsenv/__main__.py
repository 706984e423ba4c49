"""`python -m stsenv`: the same as the console script (bin/stsenv), for an environment without it on PATH."""

import sys

from stsenv.main import main

sys.exit(main())
