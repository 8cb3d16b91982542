"""Trusted side: a notebook's code cells as the Python that IPython runs, read without running any of it.

Jupyter's kernel hands each cell to IPython, which rewrites its own syntax into Python before compiling:
`%magic` and `!shell` lines, `x?` and `??x` help, `files = !ls`, `%%cell` magics become calls on
`get_ipython()`. The same rewriting is done here, by IPython's own `TransformerManager`, so a cell reads
as it reads in Jupyter. What grading then does with those calls:

- a line magic, shell command or help request is a bare `get_ipython()...` expression, which the loader
  never runs (it runs no top-level expressions); where one is part of a statement that runs
  (`files = !ls`, a magic inside an `if`), the sandbox's `get_ipython()` does nothing and returns None.
  Each is named in a note, with its cell and line.
- a `%%time`, `%%capture` or `%%prun` cell: IPython runs its body as Python in the notebook's namespace
  (a class defined there exists afterwards), so its body is loaded as the cell's code. Any other cell
  magic is skipped with a note: `%%timeit` runs its body in a scope of its own, so what it defines does
  not exist afterwards in Jupyter either; `%%bash`, `%%writefile`, `%%html`... are not Python.

Line numbers stay those of the cell as the student sees it: where IPython drops leading blank lines or
joins a backslash-continued magic into one line, blank lines are put back.
"""

import ast
import difflib
import re
import time

import nbformat
from IPython.core.inputtransformer2 import TransformerManager  # ~0.2 s: this module is imported for notebooks only

# The kit's catalogs (grader/i18n); copied into the release's self-check (release/contents.py SHARED_FILES),
# this module finds the bundle's own grader/i18n/ beside it.
try:
    from ..i18n import _
except ImportError:
    from .i18n import _  # type: ignore[import-not-found,no-redef]


# Cell magics whose body IPython runs as Python in the notebook's own namespace.
RUN_BODY = frozenset({"time", "capture", "prun"})
# Characters IPython may tokenize for one notebook (see _BoundedTransformer). It tokenizes a cell again
# after each rewrite, at about 0.4 MB/s here: the course's notebook costs about 26,000; a long one with
# magics in long cells a few hundred thousand; this many take about 2.5 s, and the cells after them are
# loaded as plain Python.
WORK_CHARACTERS = 1_000_000
ALIGN_LINES = 500  # a changed stretch of a cell longer than this is not aligned line by line (difflib is quadratic)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # where Python ends a line (str.splitlines also breaks at \f, \v, ...)
_LISTED = 12  # cells whose IPython commands are named in the note; the rest are counted
_NOTES = 20  # notes kept; the rest are counted


class NotebookError(Exception):
    """The notebook cannot be read at all."""


class OutOfTime(Exception):
    """Reading the notebook went past the submission's deadline."""


class _OutOfWork(Exception):
    """The notebook's budget of IPython work is spent."""


class _BoundedTransformer(TransformerManager):
    """IPython's reader with a bound on its work. IPython tokenizes the whole cell again after each rewrite,
    so a cell costs about its size times its IPython commands: a 5 MB notebook could hold the grader for
    hours. The bound counts characters tokenized, not seconds, so that a notebook reads the same on any
    machine; the deadline (the submission's budget) is checked as well, before each pass."""

    def __init__(self, characters, deadline=None):
        super().__init__()
        self.characters_left, self.deadline = characters, deadline

    def charge(self, characters):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime("rewriting the notebook's IPython syntax")
        self.characters_left -= characters
        if self.characters_left < 0:
            raise _OutOfWork()

    def do_one_token_transform(self, lines):
        self.charge(sum(map(len, lines)))
        return super().do_one_token_transform(lines)


def code_cells(name, data, deadline=None):
    """(chunks, notes) for the notebook `name` whose file holds the bytes `data`; OutOfTime once
    time.monotonic() passes `deadline`.

    chunks: one {"label", "filename", "source"} per code cell, its source the Python IPython would run.
    notes: what the student should know about how the cells were read (commands not run, cells skipped).
    """
    try:
        text = data.decode("utf-8-sig")  # a notebook is JSON in UTF-8; tolerate the BOM some editors add
    except UnicodeDecodeError as error:
        line = len(_LINE_BREAK.findall(data[: error.start].decode("utf-8", "replace"))) + 1
        raise NotebookError(
            _(
                "{name}, line {line}: byte {byte} is not UTF-8; a notebook is JSON in UTF-8, and Jupyter cannot "
                "open this one either"
            ).format(name=name, line=line, byte=f"0x{data[error.start]:02x}")
        ) from None
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 -- nbformat raises several types for malformed JSON and schemas
        raise NotebookError(
            _("{name} is not a readable notebook: {error}").format(
                name=name, error=f"{type(error).__name__}: {str(error)[:300]}"
            )
        ) from None

    transformer = _BoundedTransformer(WORK_CHARACTERS, deadline)
    chunks, notes, commands, unread = [], [], [], []
    sources = [cell.get("source", "") for cell in notebook.cells if cell.get("cell_type") == "code"]
    for number, source in enumerate(sources, 1):
        label = _("{name}, code cell {number}").format(name=name, number=number)
        source = "".join(source) if isinstance(source, list) else str(source)
        # Jupyter's editor hands the kernel \n line ends (IPython joins `\`-continued magics on \n only).
        source = _LINE_BREAK.sub("\n", source)
        python = None
        if not unread:
            try:
                python, cell_notes, lines = _as_python(transformer, source, label)
            except (_OutOfWork, RecursionError):  # RecursionError: `%%time` cells nested in hundreds
                pass
        if python is None:
            unread.append(number)
            python = source
        else:
            notes += cell_notes
            if lines:
                shown = ", ".join(
                    _("line {line} `{text}`").format(line=line, text=_shorten(text)) for line, text in lines
                )
                commands.append(_("code cell {number}, {lines}").format(number=number, lines=shown))
        chunks.append({"label": label, "filename": f"<submission {name} cell {number}>", "source": python})
    if commands:
        more = len(commands) - _LISTED
        listed = "; ".join(commands[:_LISTED]) + (
            _("; and in {count} more cells").format(count=more) if len(commands) > _LISTED else ""
        )
        notes.insert(
            0,
            _(
                "{name}: IPython commands (magics, `!` shell lines, `?` help) are not run while grading: {listed}."
            ).format(name=name, listed=listed),
        )
    if unread:
        notes.append(
            _(
                "{name}: from code cell {number} on, the notebook holds more IPython syntax than grading converts; "
                "those cells were loaded as plain Python, where IPython syntax is a SyntaxError."
            ).format(name=name, number=unread[0])
        )
    if len(notes) > _NOTES:
        notes[_NOTES:] = [_("and {count} more notes like these.").format(count=len(notes) - _NOTES)]
    return tuple(chunks), tuple(notes)


def _as_python(transformer, source, label, first_line=1):
    """(python, notes, commands) for one cell's `source`, whose first line is line `first_line` of the cell;
    commands: [(line, text)] of the lines that became IPython calls."""
    # IPython drops leading blank lines before anything else; they are put back as they were.
    pieces = source.splitlines(keepends=True)
    leading = next((index for index, piece in enumerate(pieces) if not piece.isspace()), len(pieces))
    blank = _breaks("".join(pieces[:leading]))
    rest = "".join(pieces[leading:])
    if not rest:
        return source, [], []
    try:
        transformed = transformer.transform_cell(rest)
    except (_OutOfWork, OutOfTime):
        raise
    except Exception as error:  # noqa: BLE001 -- IPython's reader on arbitrary text; say so, load it as it is
        return (
            source,
            [
                _("{label}: IPython could not read it ({error}); it was loaded as plain Python").format(
                    label=label, error=f"{type(error).__name__}: {str(error)[:200]}"
                )
            ],
            [],
        )
    start = first_line + blank
    magic = _cell_magic(transformed)
    if magic is not None:
        name, _line, body = magic
        if name in RUN_BODY:
            # The body starts on the line after `%%name`, and IPython transforms it as a cell of its own.
            ended = _ended(rest)
            body_line = start + (_breaks(ended[: len(ended) - len(body)]) if ended.endswith(body) else 1)
            python, notes, commands = _as_python(transformer, body, label, body_line)
            return "\n" * (body_line - first_line) + python, notes, commands
        why = (
            _("IPython runs a `%%timeit` body in a scope of its own, so nothing it defines exists afterwards")
            if name == "timeit"
            else _("its body is not Python that runs in the notebook")
        )
        skipped = _("{label}, line {line}: a `%%{magic}` cell was skipped: {why}.").format(
            label=label, line=start, magic=_shorten(name, 30), why=why
        )
        return "", [skipped], []
    python, changed, unsure = _keep_line_numbers(_ended(rest), transformed)
    notes = [
        _(
            "{label}, lines {first} to {last}: IPython joined lines there, and line numbers in that stretch may be off"
        ).format(label=label, first=start + first - 1, last=start + last - 1)
        for first, last in unsure
    ]
    return "\n" * (start - first_line) + python, notes, [(start + line - 1, text) for line, text in changed]


def _keep_line_numbers(original, transformed):
    """`transformed` with a blank line put back for each line IPython joined into another, so that every
    line keeps its number in `original`; [(line, original text)] of each line that became an IPython call;
    and [(first, last)] of the stretches too long to align line by line (their later lines are right)."""
    before, after = original.splitlines(keepends=True), transformed.splitlines(keepends=True)
    line_of = [1]  # line_of[i]: the line that before[i] starts on
    for piece in before:
        line_of.append(line_of[-1] + _breaks(piece))
    kept, changed, unsure = [], [], []
    # Compared without indentation: IPython dedents a cell whose first line is indented.
    for tag, i1, i2, j1, j2 in _opcodes([piece.strip() for piece in before], [piece.strip() for piece in after]):
        kept += after[j1:j2]
        if tag == "equal":
            continue
        for offset, piece in enumerate(after[j1:j2]):
            if "get_ipython()" in piece:
                index = i1 + offset  # its line, if no line above it in this stretch was joined
                if tag == "unsure" and 2 * offset >= j2 - j1:
                    index = i2 - (j2 - j1 - offset)  # nearer the end: if none below it was joined
                index = max(0, min(index, i2 - 1, len(before) - 1))
                changed.append((line_of[index], before[index].strip()))
        kept.append("\n" * max(0, _breaks("".join(before[i1:i2])) - _breaks("".join(after[j1:j2]))))
        if tag == "unsure":
            unsure.append((line_of[i1], line_of[i2] - 1))
    return "".join(kept), changed, unsure


def _opcodes(before, after):
    """difflib's opcodes from `before` to `after` (IPython's lines), found in linear time where it can:
    line by line when IPython joined none, else around the common start and end."""
    if len(before) == len(after):
        return [
            ("equal" if old == new else "replace", index, index + 1, index, index + 1)
            for index, (old, new) in enumerate(zip(before, after))
        ]
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < min(len(before), len(after)) - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    middle = (head, len(before) - tail, head, len(after) - tail)
    if max(middle[1] - head, middle[3] - head) > ALIGN_LINES:
        codes = [("unsure", *middle)]
    else:
        matcher = difflib.SequenceMatcher(None, before[head : middle[1]], after[head : middle[3]], autojunk=False)
        codes = [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    return [("equal", 0, head, 0, head), *codes, ("equal", middle[1], len(before), middle[3], len(after))]


def _cell_magic(transformed):
    """(name, line, body) when IPython turned the cell into a cell magic's call, else None."""
    if not transformed.startswith("get_ipython().run_cell_magic(") or transformed.count("\n") != 1:
        return None  # IPython writes a cell magic as one line; more is the student's own code
    try:
        tree = ast.parse(transformed)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    call = tree.body[0].value if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) else None
    if not isinstance(call, ast.Call) or len(call.args) != 3:
        return None
    values = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    return tuple(values) if len(values) == 3 else None


def _breaks(text):
    return len(_LINE_BREAK.findall(text))


def _ended(source):
    return source if source.endswith("\n") else source + "\n"  # as transform_cell reads it


def _shorten(text, limit=60):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
