"""A student's environment, made in seconds: a virtual environment whose only packages are the
distributions the bundle's requirements.txt names and their dependencies, linked from the environment
this runs in (installing torch afresh costs about 90 s). The kit (grader, reference) and everything else
installed here (hypothesis, IPython...) stay out of it. For the tests and the speed benchmark.
"""

import re
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _closure(names):
    """The installed distributions `names` need, dependencies included (extras left out)."""
    found, todo = {}, list(names)
    while todo:
        requirement = Requirement(todo.pop())
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        found[key] = dist = distribution(requirement.name)
        for needed in dist.requires or ():
            marker = Requirement(needed).marker
            if marker is None or marker.evaluate({"extra": ""}):
                todo.append(needed)
    return found


def declared_environment(bundle, folder):
    """Make the environment in `folder` (new or empty) for the bundle in `bundle`; returns its python."""
    folder = Path(folder)
    # Comments as pip reads them: from a `#` at the start of a line or after white space.
    lines = [
        re.sub(r"(^|\s)#.*$", "", line).strip() for line in (Path(bundle) / "requirements.txt").read_text().splitlines()
    ]
    declared = [line for line in lines if line]
    packages = folder / "packages"
    packages.mkdir(parents=True)
    for dist in _closure(declared).values():
        for top in {Path(str(file)).parts[0] for file in dist.files or () if not str(file).startswith("..")}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (packages / top).exists():
                (packages / top).symlink_to(source)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    python = folder / "venv" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "declared.pth").write_text(str(packages) + "\n")
    return python
