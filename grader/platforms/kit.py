"""The kit as a wheel built from this checkout, for a platform to install (Gradescope, PrairieLearn, Classroom).

The wheel is built from a copy of the packages and pyproject.toml in a temporary folder, so the build
leaves nothing (build/, *.egg-info) in the checkout. The language the kit speaks there to students is
passed on its command line (`--lang`, written into the platform's run script by `with_language`).
"""

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import i18n
from grader.errors import OptimkitError

CHECKOUT = Path(__file__).resolve().parents[2]
# The torch the kit's tests ran with (README's Quick start installs it too; tests/test_lms_platforms.py
# checks that it is the one imported there): what the platforms install unless told otherwise.
TESTED_TORCH = "2.13.0"
TORCH_SPEC = f"torch=={TESTED_TORCH}"
_PACKAGES = ("grader", "reference")
_TOP_FILES = ("pyproject.toml", "README.md", "LICENSE")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")


class KitError(OptimkitError):
    """The wheel could not be built; the message says why and what to do."""


_BUILT: dict = {}  # the wheel already built by this process: (name, bytes); the checkout does not change under it


def build_wheel(out_folder):
    """Build the kit's wheel into `out_folder` (once per process); return its path."""
    out_folder = Path(out_folder)
    out_folder.mkdir(parents=True, exist_ok=True)
    if "wheel" not in _BUILT:
        _BUILT["wheel"] = _build()
    name, data = _BUILT["wheel"]
    target = out_folder / name
    target.write_bytes(data)
    return target


def _build():
    if not (CHECKOUT / "pyproject.toml").is_file():
        raise KitError(
            f"{CHECKOUT} is not a source checkout of optimkit (no pyproject.toml): "
            "run this command from a checkout, where the kit's wheel can be built"
        )
    with tempfile.TemporaryDirectory(prefix="optimkit-wheel-") as scratch:
        source = Path(scratch) / "optimkit"
        source.mkdir()
        for name in _TOP_FILES:
            if (CHECKOUT / name).is_file():
                shutil.copy2(CHECKOUT / name, source / name)
        for package in _PACKAGES:
            shutil.copytree(CHECKOUT / package, source / package, ignore=_IGNORED)
        built = Path(scratch) / "wheel"
        # Without build isolation where setuptools is here: nothing to download, so it works offline.
        isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
        command = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            *isolation,
            "-w",
            str(built),
            str(source),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(built.glob("optimkit-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise KitError(f"building the kit's wheel failed ({' '.join(command)}):\n{done.stderr[-2000:]}")
        return wheels[0].name, wheels[0].read_bytes()


def with_language(text, command, language=None):
    """`text` (a run script, a workflow) with `--lang LANGUAGE` added to the end of the line that ends with
    `command` (there must be one such line); English, the default, leaves `text` as it is, byte for byte.
    language: by default the one this process speaks (the command's `--lang`)."""
    language = i18n.check_language(language or i18n.language())
    if language == i18n.DEFAULT:
        return text
    lines = text.splitlines(keepends=True)
    found = [index for index, line in enumerate(lines) if line.rstrip("\n").endswith(command)]
    if len(found) != 1:
        raise KitError(f"the platform's script has {len(found)} lines ending with {command!r}, expected one")
    line = lines[found[0]]
    body = line.rstrip("\n")
    lines[found[0]] = f"{body} --lang {language}{line[len(body) :]}"
    return "".join(lines)


def speak_language_of(argv=None, prog=None):
    """Speak the `--lang` of a platform runner's command line (`python -m grader.platforms.gradescope
    --lang zh-CN`, as its run script starts it; English without it). Returns the language."""
    parser = argparse.ArgumentParser(prog=prog, description="grade the platform's submission")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=i18n.DEFAULT, help="the language students read")
    language = parser.parse_args(argv).lang
    i18n.set_language(language)
    return language
