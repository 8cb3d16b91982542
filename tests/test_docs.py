"""Is the README a door, and does it open onto a docs site that builds?

- the docs site (`mkdocs.yml`, pages in `docs/`) builds with `mkdocs build --strict`: a link to a page or an
  anchor that does not exist, or a page missing from the nav, is an error;
- `README.md` is at most 200 lines, and every link it has into `docs/` reaches a page (and a heading there);
- its Quick start keeps the structure `.ci/run` reads (the second command of the first code block runs the
  tests), and the docs' home page shows the very same block;
- `docs/modules.md` is what `python -m tools.module_map` prints from the modules' docstrings today.
"""

import re
import subprocess
import sys
from pathlib import Path

from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README_LINES = 200
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _quick_start_block(path):
    """The lines of the first code block under `## Quick start`, as .ci/run reads them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("## Quick start")
    opening = next(index for index in range(start + 1, len(lines)) if lines[index].startswith("```"))
    closing = next(index for index in range(opening + 1, len(lines)) if lines[index].startswith("```"))
    return [line for line in lines[opening + 1 : closing] if line.strip()]


def _anchors(page):
    """The anchors of a page's headings, as mkdocs makes them (Python-Markdown's toc)."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {slugify(heading.replace("`", ""), "-") for heading in headings}


def test_the_docs_site_builds_with_warnings_as_errors(tmp_path):
    """Does `mkdocs build --strict` build the site, with no broken link, anchor or page left out of the nav?"""
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,  # the output says why, below
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "architecture" / "index.html").is_file()


def test_the_readme_is_at_most_200_lines():
    """Is the README a door (what the kit is, the Quick start, a path per reader) rather than the manual?"""
    count = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert count <= README_LINES, f"README.md has {count} lines; move the detail into a page under docs/"


def test_every_docs_link_in_the_readme_reaches_a_page():
    """Does each link of the README into docs/ name a page that exists, and a heading on it where it names one?"""
    links = [
        link for link in LINK.findall((ROOT / "README.md").read_text(encoding="utf-8")) if link.startswith("docs/")
    ]
    assert len(links) >= 4, "the README has a path into docs/ for each reader"
    broken = []
    for link in links:
        target, _, anchor = link.partition("#")
        page = ROOT / target
        if not page.is_file() or page.suffix != ".md" or (anchor and anchor not in _anchors(page)):
            broken.append(link)
    assert not broken, f"README.md links to missing pages or headings: {broken}"


def test_the_quick_start_keeps_what_ci_reads_and_the_docs_show_it():
    """Is the Quick start's first block two commands, the second running the tests (what .ci/run runs), and
    is the docs' home page's block the same?"""
    block = _quick_start_block(ROOT / "README.md")
    assert len(block) == 2, block
    assert block[1].endswith(".venv/bin/python -m pytest -n 2 --dist loadfile"), block[1]
    assert _quick_start_block(DOCS / "index.md") == block


def test_the_module_map_is_what_the_code_says():
    """Is docs/modules.md what tools/module_map.py prints from the modules' docstrings now?"""
    printed = subprocess.run(
        [sys.executable, "-m", "tools.module_map"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    committed = (DOCS / "modules.md").read_text(encoding="utf-8")
    assert committed == printed, "docs/modules.md is out of date: run python -m tools.module_map > docs/modules.md"
