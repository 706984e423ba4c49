import sys

from stsenv.main import main

sys.exit(main())
