"""A submission's Python, read without running it: a .py as Python reads it, or a notebook's code cells.

A notebook is read with the standard library's json. IPython's own syntax (`%magic`, `!shell`, `x?`) is
turned into Python by IPython's TransformerManager where IPython is installed (as it is beside Jupyter),
else by a small filter that blanks those lines; either way they are not run. The body of a `%%time`,
`%%capture` or `%%prun` cell runs, as in Jupyter; other cell magics are skipped. Standalone module."""

import ast
import importlib.util
import json
import re
from pathlib import Path

RUN_BODY = ("time", "capture", "prun")
MAX_BYTES = 5_000_000


class SourceError(Exception):
    pass


def locate(path):
    """The .py or .ipynb to read: `path` itself, or the only one in the folder `path`."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in (".py", ".ipynb") and p.is_file())
        if len(found) != 1:
            raise SourceError(f"{path} should hold exactly one .py or .ipynb file, found {len(found)}")
        path = found[0]
    if not path.is_file():
        raise SourceError(f"{path} is not a file")
    if path.suffix not in (".py", ".ipynb"):
        raise SourceError(f"{path} is neither a .py nor an .ipynb file")
    if path.stat().st_size > MAX_BYTES:
        raise SourceError(f"{path} is larger than {MAX_BYTES // 1_000_000} MB")
    return path


def read(path):
    """([(label, filename, source)], notes): one chunk for a .py, one per code cell for a notebook."""
    path = locate(path)
    data = path.read_bytes()
    if path.suffix == ".py":
        try:
            return [(path.name, f"<submission {path.name}>", importlib.util.decode_source(data))], []
        except (SyntaxError, UnicodeDecodeError) as error:
            raise SourceError(f"{path.name} cannot be read as Python source ({error}); save it as UTF-8") from None
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = [cell for cell in notebook["cells"] if cell.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SourceError(f"{path.name} is not a readable notebook ({error})") from None
    chunks, notes = [], []
    for number, cell in enumerate(cells, start=1):
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        code, note = python_of_cell(text)
        if note:
            notes.append(f"code cell {number}: {note}")
        chunks.append((f"code cell {number}", f"<submission cell {number}>", code))
    return chunks, notes


def python_of_cell(text):
    """(Python source, note or None) of one cell."""
    first, _, rest = text.partition("\n")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in RUN_BODY:
            return "", f"%%{magic} cell skipped"
        text = "\n" + rest  # the body runs, on its own line numbers
    try:
        ast.parse(text)
        return text, None
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return _blank_magics(text), "IPython commands (%, !, ?) were not run"
    return TransformerManager().transform_cell(text), "IPython commands (%, !, ?) were not run"


_ASSIGNED = re.compile(r"^(\s*)([\w.\[\], ]+?)\s*=\s*[!%].*$")
_COMMAND = re.compile(r"^(\s*)(?:[!%?].*|[\w.]+\?\??\s*)$")


def _blank_magics(text):
    lines = []
    for line in text.split("\n"):
        assigned = _ASSIGNED.match(line)
        if assigned:
            lines.append(f"{assigned.group(1)}{assigned.group(2)} = None")
        elif _COMMAND.match(line):
            lines.append(f"{_COMMAND.match(line).group(1)}pass")
        else:
            lines.append(line)
    return "\n".join(lines)
