"""`python -m bench`: every bench, one table (bench/runner.py)."""

import sys

from bench.runner import main

sys.exit(main())
