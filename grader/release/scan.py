"""Does a bundle hold a solution? Every file (and every member of a zip) is searched for each exercise's
solution body and each known mistake's body, and for the kit's own packages.

Three nets: (1) code: every Python the bundle holds (.py files, notebook cells, fenced blocks in text,
strings in JSON that parse as Python) is cut into every run of consecutive statements, and each run is
compared with each body after both are normalised: docstrings and comments dropped, every identifier
(names, arguments, attributes) renamed in order of first use, so renaming variables or reformatting hides
nothing; (2) text: every file's text, with whitespace and comments removed, searched for each body's text
treated the same way, so a body pasted into a string, a comment or markdown is found too; (3) lines:
every line of every text (a hint in cases.json, a sentence of the README) searched for each line of each
solution, both without white space, comments and `self.`, so a single solution line is found too.

The Nesterov bonus body and train_f are given in the stub on purpose, so they are not searched for.
A compiled catalog (.mo, a release in another language than English) is searched as the text of its
messages and their translations, one a line.
"""

import ast
import copy
import io
import json
import re
import struct
import textwrap
import zipfile
from pathlib import Path

from grader.explain import mistakes
from grader.judge.parts import EXERCISES

from ..assignment.pipeline import reference_folder
from .contents import I18N_DOMAINS, I18N_TARGET, SELFCHECK_DATA, SELFCHECK_FILES, SHARED_FILES

MIN_LINE = 12  # characters of a solution line (compacted) worth finding: `return x, G` is too common to count
ALLOWED_SUFFIXES = (".py", ".ipynb", ".md", ".txt", ".json", ".ini", ".mo")
# grader.i18n is the bundle's own package too (the language module it ships), not the kit.
KIT_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:grader(?!\.i18n\b)|reference)\b", re.MULTILINE)
#: The language module's files below the bundle's grader/: the module, and the catalogs of I18N_DOMAINS.
I18N_FILE = re.compile(
    rf"{re.escape(I18N_TARGET)}|{re.escape(I18N_TARGET.rsplit('/', 1)[0])}/[a-z]{{2,3}}(?:_[A-Za-z]+)?/LC_MESSAGES/"
    rf"(?:{'|'.join(I18N_DOMAINS)})\.mo"
)


def targets():
    """{label: (list of statements (ast), source text)} of every exercise's solution and every known mistake."""
    found = {}
    folder = reference_folder()
    for module in ("optimizers.py", "rules.py"):
        text = (folder / module).read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = text.splitlines(keepends=True)
        source = lambda body: "".join(lines[body[0].lineno - 1 : body[-1].end_lineno]) if body else ""  # noqa: E731, B023 -- used in this iteration only
        for qualname in EXERCISES:
            class_name, method = qualname.split(".")
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name == class_name:
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef) and item.name == method:
                            found[f"solution {qualname} ({module})"] = (_body(item), source(_body(item)))
                elif isinstance(node, ast.FunctionDef) and node.name == method and module == "rules.py":
                    found[f"solution rules.{method}"] = (_body(node), source(_body(node)))
    for bank in mistakes.BANK.values():
        for mistake in bank:
            found[f"mistake {mistake.key}"] = (ast.parse(textwrap.dedent(mistake.body)).body, mistake.body)
    return found


def _body(function):
    body = function.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return body


class _Rename(ast.NodeTransformer):
    def __init__(self):
        self.names = {}

    def _name(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=ast.Load()), node)

    def visit_arg(self, node):
        node.arg = self._name(node.arg)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.attr = self._name(node.attr)
        node.ctx = ast.Load()
        return node

    def visit_keyword(self, node):
        self.generic_visit(node)
        if node.arg:
            node.arg = self._name(node.arg)
        return node

    def visit_Expr(self, node):  # a docstring or bare string: dropped
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return ast.Pass()
        return self.generic_visit(node)


def normalised(statements):
    module = _Rename().visit(ast.Module(body=copy.deepcopy(statements), type_ignores=[]))
    return ast.dump(module, annotate_fields=False, include_attributes=False)


def _shape(statements):
    return tuple(type(statement).__name__ for statement in statements)


def _blocks(tree):
    """Every list of statements in the tree (module, function, class, loop, if and with bodies...)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield value


def solution_lines(found=None):
    """{compacted line: label} of every line of every exercise's solution (see `_compact_line`), but for the
    lines the stub gives anyway (the Nesterov bonus updates delta_x as Momentum does; `return x, G`)."""
    found = found or targets()
    solutions = {label: text for label, (_, text) in found.items() if label.startswith("solution")}
    reference = (reference_folder() / "optimizers.py").read_text(encoding="utf-8")
    for text in solutions.values():
        reference = reference.replace(text, "")
    given = {_compact_line(line) for line in reference.splitlines()}
    lines = {}
    for label, text in solutions.items():
        for line in text.splitlines():
            compact = _compact_line(line)
            if len(compact) >= MIN_LINE and compact not in given and not re.fullmatch(r"return[\w,+]*", compact):
                lines.setdefault(compact, label)
    return lines


def _compact_line(line):
    """A line without its comment, its white space and `self.` (a hint writes `beta` for `self.beta`)."""
    return re.sub(r"\s+", "", line.split("#", 1)[0]).replace("self.", "")


def _compact(text):
    """Text without comments and whitespace (a body's fingerprint for the text net)."""
    return re.sub(r"\s+", "", re.sub(r"#[^\n]*", "", text))


def json_strings(value):
    """Every string in a JSON value, keys included, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def _python_sources(name, text):
    """Every piece of Python a file holds."""
    if name.endswith(".py"):
        yield text
    elif name.endswith(".ipynb"):
        for cell in json.loads(text).get("cells", []):
            source = cell.get("source", "")
            yield "".join(source) if isinstance(source, list) else source
    elif name.endswith(".json"):
        yield from sorted(set(json_strings(json.loads(text))))  # the cases repeat a few keys many times
    yield from re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)


def _texts(name, text):
    yield text
    if name.endswith((".json", ".ipynb")):  # strings as the program sees them (escapes undone), joined
        yield "\n".join(_python_sources(name.replace(".ipynb", ".json"), text))


def _kit_file(name):
    """A file of the kit's packages: anything below a `reference/` folder, compiled code, and below a
    `grader/` folder anything but the self-check's own files (the bundle's `grader/` is the self-check,
    so that students type `pytest grader`)."""
    parts = name.split("/")
    if "reference" in parts[:-1] or name.endswith(".pyc"):
        return True
    if "grader" not in parts[:-1]:
        return False
    below = parts[parts.index("grader") + 1 :]
    if I18N_FILE.fullmatch("/".join(below)):
        return False
    return len(below) != 1 or below[0] not in {*SELFCHECK_FILES.values(), *SHARED_FILES.values(), *SELFCHECK_DATA}


def catalog_text(data):
    """The messages of a compiled gettext catalog (.mo) and their translations, one a line (a plural's
    forms each on its own); ValueError if `data` is not one."""
    try:
        magic = struct.unpack("<I", data[:4])[0]
        order = "<" if magic == 0x950412DE else ">"
        if struct.unpack(order + "I", data[:4])[0] != 0x950412DE:
            raise ValueError("not a compiled gettext catalog")
        count, originals, translations = struct.unpack(order + "3I", data[8:20])
        texts = []
        for table in (originals, translations):
            for index in range(count):
                length, offset = struct.unpack(order + "2I", data[table + 8 * index : table + 8 * index + 8])
                if offset + length > len(data):
                    raise ValueError("a message past the catalog's end")
                texts.append(data[offset : offset + length].decode("utf-8").replace("\0", "\n"))
    except (struct.error, UnicodeDecodeError) as error:
        raise ValueError(f"not a compiled gettext catalog ({error})") from None
    return "\n".join(texts)


def scan_files(files):
    """[finding] for {name: bytes}: what of a solution, a mistake or the kit each file holds."""
    found = targets()
    wanted, shapes = {}, set()
    for label, (statements, _) in found.items():
        wanted.setdefault((len(statements), normalised(statements)), []).append(label)
        shapes.add(_shape(statements))
    # Each body as written and as ast.unparse writes it (parentheses and quotes may differ).
    compact = {
        (label, form)
        for label, (statements, text) in found.items()
        for form in (_compact(text), _compact(ast.unparse(ast.Module(body=statements, type_ignores=[]))))
        if form
    }
    lines = solution_lines(found)
    findings = []
    for name, data in sorted(files.items()):
        if not name.endswith(ALLOWED_SUFFIXES):
            findings.append(f"{name}: a file of a kind the bundle never holds (compiled code, pickles...)")
            continue
        if _kit_file(name):
            findings.append(f"{name}: a file of the kit's own packages")
        if name.endswith(".mo"):
            try:
                text = catalog_text(data)
            except ValueError as error:
                findings.append(f"{name}: {error}")
                continue
        else:
            text = data.decode("utf-8")
        if KIT_IMPORT.search(text):
            findings.append(f"{name}: imports the kit (grader or reference)")
        if name.endswith(".ipynb") and any(cell.get("outputs") for cell in json.loads(text)["cells"]):
            findings.append(f"{name}: a notebook with outputs")
        for source in _python_sources(name, text):
            if "\n" not in source.strip() and "=" not in source:
                continue  # one line and no assignment: no body of a solution or a mistake
            try:
                tree = ast.parse(textwrap.dedent(source))
            except (SyntaxError, ValueError):
                continue
            for block in _blocks(tree):
                for size in {size for size, _ in wanted if size <= len(block)}:
                    for start in range(len(block) - size + 1):
                        window = block[start : start + size]
                        if _shape(window) not in shapes:  # cheap: the statements' kinds must agree first
                            continue
                        labels = wanted.get((size, normalised(window)))
                        if labels:
                            findings.append(f"{name}: the code of {', '.join(labels)} (line {block[start].lineno})")
        for text_form in _texts(name, text):
            squeezed = _compact(text_form)
            findings += [f"{name}: the text of {label}" for label, body in compact if body in squeezed]
            for line in text_form.splitlines():
                squeezed_line = _compact_line(line)
                findings += [
                    f"{name}: a line of {label} ({solution!r})"
                    for solution, label in lines.items()
                    if solution in squeezed_line
                ]
    return sorted(set(findings))


def bundle_files(path):
    """{name: bytes} of a bundle folder or zip (zip members by their names inside it)."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    return {
        str(file.relative_to(path)).replace("\\", "/"): file.read_bytes()
        for file in sorted(path.rglob("*"))
        if file.is_file()
    }
