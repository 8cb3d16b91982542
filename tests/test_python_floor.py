"""Does the code run on the oldest Python that pyproject.toml's `requires-python` promises?

Checked statically, so that CI needs no old interpreter: ruff, told that floor as its target version,
reports syntax the floor cannot parse (a `match`, parenthesized context managers, `except*`) and, with
its FA rules, annotations the floor would evaluate at import and fail on (`bytes | str` without
`from __future__ import annotations`: a TypeError on 3.9, which is how grader/atomic.py once broke).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _floor():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^requires-python\s*=\s*">=\s*3\.(\d+)"', text, re.MULTILINE)
    assert found, 'pyproject.toml declares no `requires-python = ">=3.N"`'
    return int(found.group(1))


def _ruff():
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, 'ruff is missing: install the test extra (pip install -e ".[test]")'
    return found


def test_the_declared_python_floor_holds():
    """Every module of the kit (what a platform installs) and of its tests, checked at the floor."""
    target = f"py3{_floor()}"
    done = subprocess.run(
        [
            _ruff(),
            "check",
            "--no-cache",
            "--isolated",
            "--target-version",
            target,
            "--select",
            "FA",
            "--output-format",
            "concise",
            "grader",
            "reference",
            "tests",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_finds_what_the_floor_cannot_run(tmp_path):
    """The check itself: it must flag an annotation 3.9 evaluates and fails on, and syntax 3.9 lacks."""
    (tmp_path / "union.py").write_text("def f(x: bytes | str) -> int:\n    return 1\n", encoding="utf-8")
    (tmp_path / "match.py").write_text("match 1:\n    case 1:\n        pass\n", encoding="utf-8")
    done = subprocess.run(
        [
            _ruff(),
            "check",
            "--no-cache",
            "--isolated",
            "--target-version",
            "py39",
            "--select",
            "FA",
            "--output-format",
            "concise",
            "union.py",
            "match.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "union.py" in done.stdout and "FA102" in done.stdout
    assert "match.py" in done.stdout
