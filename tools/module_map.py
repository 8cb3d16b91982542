"""The docs' module map, drawn from the code: `python -m tools.module_map > docs/modules.md`.

Every module of the two installed packages (`grader`, `reference`) opens with a docstring whose first
paragraph says what it is and, in the grader, which side of the trust boundary it runs on. This prints
those paragraphs as one Markdown page, a section per folder. tests/test_docs.py fails when the committed
page differs from what this prints, so the map cannot drift from the code.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("grader", "reference")
COMMAND = "python -m tools.module_map > docs/modules.md"


def first_paragraph(path):
    """The first paragraph of the module's docstring, on one line; "" when it has none."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return " ".join(docstring.split("\n\n")[0].split())


def modules(package):
    """The package's modules, each folder's `__init__.py` first, then the rest by name."""
    return sorted((ROOT / package).rglob("*.py"), key=lambda path: (path.parent, path.name != "__init__.py", path.name))


def render():
    lines = [
        "# Module map",
        "",
        "Each module of `grader` and `reference`, with the first paragraph of its docstring. Generated from the",
        f"code by `{COMMAND}`; `tests/test_docs.py` fails when this page is out of date. The",
        "[architecture](architecture.md) page says how the folders fit together.",
    ]
    for package in PACKAGES:
        folder = None
        for path in modules(package):
            if path.parent != folder:
                folder = path.parent
                lines += ["", f"## `{folder.relative_to(ROOT).as_posix()}/`", ""]
            text = first_paragraph(path) or "(no docstring)"
            lines.append(f"- `{path.relative_to(ROOT).as_posix()}`: {text}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
