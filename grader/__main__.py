"""`python -m grader ...`: the command line (grader.cli), then an immediate exit once every file is written."""

import os
import sys

from .cli import main

code = main()
# Every file is written (atomically) and the workers are stopped by now; what is left is the
# interpreter tearing down torch and hypothesis, a tenth of a second a student waits for nothing.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code if isinstance(code, int) else 1)
