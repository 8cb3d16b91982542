"""What students receive: `python -m grader release [--out DIR] [--zip]`.

The bundle holds the stubs (optimizers.py, optimizers.ipynb with a self-check cell), a README, a
requirements.txt, and `selfcheck/`: a pytest plugin whose oracle is data (cases.json: the public cases,
the reference's outputs on them and each known mistake's outputs), never code. Nothing of `grader` or
`reference` goes in. See bundle.py for what is written and scan.py for the check that no solution is.
"""

from .bundle import ReleaseError, build_release

__all__ = ["ReleaseError", "build_release"]
