"""The project's own tools hold on the code: mypy (configured in pyproject.toml) finds no type error."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_type_error():
    """mypy, with pyproject.toml's [tool.mypy] (its files, target version and per-package settings), is clean."""
    beside = Path(sys.executable).with_name("mypy")
    found = str(beside) if beside.exists() else shutil.which("mypy")
    assert found, 'mypy is missing: install the test extra (pip install -e ".[test]")'
    done = subprocess.run(
        [found, "--config-file", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
