"""A spreadsheet file as an LMS downloads it: CSV with or without a byte-order mark, `,` or `;`.

Read whole, within a bound (a class gradebook is kilobytes), as UTF-8: Canvas and Moodle write UTF-8, and
a file re-saved by a spreadsheet in another encoding is refused with a line that says how to save it,
rather than guessed at (a wrong guess puts mojibake into every name).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.inputs.regular_files import UnreadableFile, read_regular

from . import GradebookError

MAX_SHEET_BYTES = 50 * 2**20
BOM = "\ufeff"


@dataclass
class Sheet:
    rows: list[list[str]]
    delimiter: str = ","
    bom: bool = False

    def text(self) -> str:
        """The sheet as CSV text, in its own dialect (delimiter, byte-order mark), "\\r\\n" line ends."""
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator="\r\n").writerows(self.rows)
        return (BOM if self.bom else "") + buffer.getvalue()


def read_sheet(path: Path | str, what: str) -> Sheet:
    """The rows of the CSV at `path` (`what` names it in errors: "--export", "--worksheet")."""
    path = Path(path)
    try:
        data = read_regular(path, MAX_SHEET_BYTES)
    except UnreadableFile as error:
        raise GradebookError(f"{what} {path} {error.reason}") from None
    except OSError as error:
        raise GradebookError(f"{what} {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GradebookError(
            f'{what} {path}: not UTF-8 text; download it again, or save it as "CSV UTF-8" from the spreadsheet'
        ) from None
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    if not text.strip():
        raise GradebookError(f"{what} {path}: empty file")
    first_lines = "\n".join(text.splitlines()[:3])
    # As Canvas does: `,` or `;`, whichever the first lines use more of outside quotes.
    delimiter = ";" if _count_outside_quotes(first_lines, ";") > _count_outside_quotes(first_lines, ",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise GradebookError(f"{what} {path}: not a readable CSV file: {error}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]  # blank lines say nothing
    if not rows:
        raise GradebookError(f"{what} {path}: no rows")
    return Sheet(rows=rows, delimiter=delimiter, bom=bom)


def _count_outside_quotes(text: str, char: str) -> int:
    count, quoted = 0, False
    for c in text:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def parse_number(text: str) -> float | None:
    """A number as an LMS writes it ("46", "46.00", "46,5"), or None."""
    cleaned = text.strip().replace(",", ".") if text.count(",") == 1 and "." not in text else text.strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def format_points(value: float, decimal_comma: bool = False) -> str:
    """Points with at most 2 decimals (what Canvas compares, what Moodle shows): `40`, `36.96`."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return text.replace(".", ",") if decimal_comma else text
