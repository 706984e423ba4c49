import sys

from stsenv.entry import main

sys.exit(main())
