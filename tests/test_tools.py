"""Do the project's tools hold? The checks CI runs through the test command, so that the Quick start's
`pytest` (and CI) hold them too: ruff's lint and format (configured in pyproject.toml) are clean."""

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


#: What ruff checks: the grader, its tests and the benchmarks (reference/ and assignments/ keep the course's layout).
RUFF_PATHS = ("grader", "tests", "bench")


def _ruff():
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, 'ruff is missing: install the test extra (pip install -e ".[test]")'
    return found


def _run_ruff(*arguments, cwd=ROOT):
    return subprocess.run([_ruff(), *arguments], cwd=cwd, capture_output=True, text=True)


def test_ruff_lint_is_clean():
    """`ruff check grader tests bench`: no finding (fix it, or say on the line why it stands: `# noqa: RULE -- why`)."""
    done = _run_ruff("check", "--no-cache", "--output-format", "concise", *RUFF_PATHS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean():
    """`ruff format --check grader tests bench`: every file as the formatter writes it (run `ruff format`)."""
    done = _run_ruff("format", "--no-cache", "--check", *RUFF_PATHS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_ruff_checks_can_fail(tmp_path):
    """Would the two checks see an unused import, an import inside a function, and unformatted code, under
    the project's own configuration?"""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "probe.py").write_text("import os\n\n\ndef f():\n    import json\n    return json\n", encoding="utf-8")
    lint = _run_ruff("check", "--no-cache", "--output-format", "concise", "probe.py", cwd=tmp_path)
    assert lint.returncode != 0 and "F401" in lint.stdout and "PLC0415" in lint.stdout
    (tmp_path / "probe.py").write_text("x = {  'a':1 }\n", encoding="utf-8")
    assert _run_ruff("format", "--no-cache", "--check", "probe.py", cwd=tmp_path).returncode != 0
