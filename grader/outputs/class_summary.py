"""The class-level numbers: the gradebook CSV and the class summary, as pure functions over the results.

The batch driver grades each student and hands over one `Row` per student: the score JSON when grading
completed (`grader.outputs.results.GradeReport.to_dict()`), or why it did not. Everything here is a pure function
of those rows and the rubric's part order, so the same class gives the same bytes, and the functions can
be tested without grading anyone.

Which rows count where (one rule, stated once):
- `scores_csv` has a line for every student, because a gradebook import needs a number for each one: the
  result's points where there is a result (a timed-out student keeps what a partial result earned), else
  0; the `status` column says why a score may be 0.
- `summary` computes the statistics, part and test pass rates and diagnosed mistakes over the *graded*
  students only (status "graded"): an unreadable file says nothing about how the class understood Adam.
  The students who errored or timed out are listed apart, with their messages.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from dataclasses import dataclass

__all__ = ["STATUSES", "Row", "format_number", "gradebook", "neutralise_cell", "scores_csv", "summary"]

#: The status of a student's row: graded (a result exists), error (could not be graded at all, e.g. an
#: unreadable file, two submissions, a crash while loading), timeout (it used up its time budget).
STATUSES = ("graded", "error", "timeout")

#: Cells that a spreadsheet reads as a formula when they start with one of these (OWASP "CSV injection").
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

#: Decimal places kept in the summary and the CSV: scores are sums of rubric points, so anything finer
#: than 1e-6 is float rounding noise that would only make outputs differ across platforms.
_DECIMALS = 6


@dataclass(frozen=True)
class Row:
    """One student of the class, as the batch driver saw them."""

    student: str
    """The student's id: the submission file's stem or folder's name (untrusted: it comes from the LMS)."""
    name: str
    """The display name (untrusted, like `student`); may equal `student` when the LMS gives no name."""
    status: str
    """One of `STATUSES`."""
    result: dict | None = None
    """The score JSON (`GradeReport.to_dict()`); required when graded, optional (partial) for a timeout."""
    message: str = ""
    """Why the student was not graded (error, timeout); empty when graded."""

    def __post_init__(self):
        if not isinstance(self.student, str) or not self.student:
            raise ValueError(f"Invalid student: {self.student!r} (expected a non-empty string)")
        if not isinstance(self.name, str):
            raise ValueError(f"Invalid name for student {self.student!r}: {self.name!r} (expected a string)")
        if self.status not in STATUSES:
            raise ValueError(
                f"Invalid status for student {self.student!r}: {self.status!r} (expected one of {', '.join(STATUSES)})"
            )
        if self.result is None and self.status == "graded":
            raise ValueError(
                f"Student {self.student!r} is graded but has no result: pass the score JSON, "
                "or status 'error' with a message"
            )
        if self.result is not None:
            _check_result(self.student, self.result)
        if not isinstance(self.message, str):
            raise ValueError(f"Invalid message for student {self.student!r}: {self.message!r} (expected a string)")

    @property
    def score(self) -> float:
        """Points for the gradebook: the result's score, or 0 where there is no result."""
        return float(self.result["score"]) if self.result is not None else 0.0

    def part_score(self, part: str) -> tuple[float, float] | None:
        """(points, max points) of one part, or None when the result has no such part (or no result)."""
        if self.result is None:
            return None
        parts = self.result.get("extra_data", {}).get("parts")
        if isinstance(parts, dict) and part in parts:
            return float(parts[part]["score"]), float(parts[part]["max_score"])
        # Older or hand-made results without extra_data.parts: derive it from the tests, as GradeReport does.
        tests = [test for test in self.result["tests"] if part in test.get("tags", ())]
        if not tests:
            return None
        return sum(float(test["score"]) for test in tests), sum(float(test["max_score"]) for test in tests)


def _check_result(student, result):
    """Fail at the door, naming the student, rather than deep inside a statistic."""
    if not isinstance(result, dict):
        raise ValueError(
            f"Invalid result for student {student!r}: expected the score JSON as a dict, got {type(result).__name__}"
        )
    for key in ("score", "max_score"):
        _check_number(student, key, result.get(key))
    tests = result.get("tests")
    if not isinstance(tests, list) or not all(isinstance(test, dict) for test in tests):
        raise ValueError(f"Invalid result for student {student!r}: 'tests' should be a list of objects")
    for index, test in enumerate(tests):
        for key in ("score", "max_score"):
            _check_number(student, f"tests[{index}].{key}", test.get(key))
        tags = test.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ValueError(f"Invalid result for student {student!r}: tests[{index}].tags should be a list of strings")
        if not isinstance(test.get("extra_data", {}), dict):
            raise ValueError(f"Invalid result for student {student!r}: tests[{index}].extra_data should be an object")
    extra = result.get("extra_data", {})
    if not isinstance(extra, dict):
        raise ValueError(f"Invalid result for student {student!r}: 'extra_data' should be an object")
    parts = extra.get("parts", {})
    if not isinstance(parts, dict):
        raise ValueError(f"Invalid result for student {student!r}: 'extra_data.parts' should be an object")
    for part, scores in parts.items():
        if not isinstance(scores, dict):
            raise ValueError(f"Invalid result for student {student!r}: 'extra_data.parts.{part}' should be an object")
        for key in ("score", "max_score"):
            _check_number(student, f"extra_data.parts.{part}.{key}", scores.get(key))


def _check_number(student, where, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"Invalid result for student {student!r}: {where} should be a finite number >= 0, got {value!r}"
        )


def format_number(value: float | None) -> str:
    """A score as a gradebook reads it: plain decimals, `10` not `10.0`, `2.5` kept, no exponent; None is ''."""
    if value is None:
        return ""
    value = round(float(value), _DECIMALS)
    if value == 0:
        return "0"  # also turns -0.0 into 0
    return f"{value:.{_DECIMALS}f}".rstrip("0").rstrip(".")


def neutralise_cell(text: str) -> str:
    """`text` made safe for a spreadsheet: a cell that would start a formula gets a leading single quote.

    OWASP's advice for CSV injection: names come from LMS folder names, and `=HYPERLINK(...)` or
    `@SUM(...)` would run when the teacher opens the gradebook. Leading spaces do not hide a trigger
    from every spreadsheet, so they are looked through.
    """
    if text.startswith(_FORMULA_TRIGGERS) or text.lstrip(" ").startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


def _text_cell(text: str) -> str:
    """A text cell for the CSV: line breaks as "\\n", then neutralised.

    The csv module quotes a field holding "\\n" (our line end) but not one holding a lone "\\r", which a
    reader then takes for the end of the record; so "\\r\\n" and "\\r" become "\\n", which is quoted.
    """
    return neutralise_cell(text.replace("\r\n", "\n").replace("\r", "\n"))


def _sorted_rows(rows):
    """Rows by student id (code-point order, so that the locale changes nothing); duplicates refused."""
    rows = list(rows)
    for row in rows:
        if not isinstance(row, Row):
            raise ValueError(f"Invalid row: {row!r} (expected a grader.outputs.class_summary.Row)")
    counts = Counter(row.student for row in rows)
    duplicates = sorted(student for student, count in counts.items() if count > 1)
    if duplicates:
        raise ValueError(f"Duplicate students: {', '.join(map(repr, duplicates))} (each student needs one row)")
    return sorted(rows, key=lambda row: row.student)


def _check_parts(parts):
    parts = list(parts)
    if not all(isinstance(part, str) and part for part in parts) or len(set(parts)) != len(parts):
        raise ValueError(f"Invalid parts: {parts!r} (expected distinct part names, in rubric order)")
    return parts


def _most_common(values):
    """The value most rows agree on (ties: the largest), or None; every result should carry the same rubric."""
    counts = Counter(values)
    if not counts:
        return None
    return max(counts, key=lambda value: (counts[value], value))


def _class_max(rows):
    return _most_common(float(row.result["max_score"]) for row in rows if row.result is not None)


def _part_max(rows, part):
    return _most_common(scores[1] for scores in (row.part_score(part) for row in rows) if scores is not None)


def gradebook(rows: list[Row], parts: list[str]) -> list[dict]:
    """What the gradebook gets per student, sorted by student: student, name, status, total, max, parts.

    Every student gets numbers, since a gradebook import wants one: a student who errored (or timed out
    with no partial result) gets total 0 and 0 per part, with `max` the class's rubric total and `status`
    saying why. `max` is None only where no result in the class says what it is out of (e.g. every
    student errored). A part missing from a result counts 0. `scores_csv` and the report's student
    table are both made from this, so they cannot disagree.
    """
    parts = _check_parts(parts)
    rows = _sorted_rows(rows)
    class_max = _class_max(rows)
    entries = []
    for row in rows:
        if row.result is not None:
            total, most = row.score, float(row.result["max_score"])
            points = {part: (row.part_score(part) or (0.0, None))[0] for part in parts}
        else:
            total, most, points = 0.0, class_max, dict.fromkeys(parts, 0.0)
        entries.append(
            {
                "student": row.student,
                "name": row.name,
                "status": row.status,
                "total": total,
                "max": most,
                "parts": points,
            }
        )
    return entries


def scores_csv(rows: list[Row], parts: list[str]) -> str:
    """The gradebook CSV: `student,name,total,max,<part>...,status`, a line per student sorted by student.

    The numbers are `gradebook(rows, parts)`'s: an errored student gets total 0 (and 0 per part) with
    `max` filled, and `status` says why; `max` is empty only when no result in the class gives it.
    Numbers are plain decimals (`format_number`). RFC 4180 via the csv module, UTF-8 text, "\\n" line
    ends; the text cells (student, name) have their line breaks made "\\n" and are neutralised against
    formula injection (`neutralise_cell`).
    """
    parts = _check_parts(parts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "name", "total", "max", *parts, "status"])
    for entry in gradebook(rows, parts):
        writer.writerow(
            [
                _text_cell(entry["student"]),
                _text_cell(entry["name"]),
                format_number(entry["total"]),
                format_number(entry["max"]),
                *(format_number(entry["parts"][part]) for part in parts),
                entry["status"],
            ]
        )
    return buffer.getvalue()


def _round(value):
    return None if value is None else round(float(value), _DECIMALS)


def _rate(count, total):
    return _round(count / total) if total else None


def _result(row: Row) -> dict:
    """A graded row's result (`Row` refuses a graded row without one)."""
    assert row.result is not None
    return row.result


def _full(points, most):
    """Full points, with room for float sums (0.1 + 0.2); a part worth nothing has no full points to earn."""
    return most > 0 and points >= most - 1e-9


def _stats(values):
    """mean, median, min, max and population stdev (the class is the whole population), or None if empty."""
    if not values:
        return None
    return {
        "mean": _round(statistics.fmean(values)),
        "median": _round(statistics.median(values)),
        "min": _round(min(values)),
        "max": _round(max(values)),
        "stdev": _round(statistics.pstdev(values)),
    }


def _part_order(parts):
    """Sort key: rubric parts first in rubric order, then any other part the results name, alphabetically."""
    index = {part: position for position, part in enumerate(parts)}
    return lambda part: (index.get(part, len(index)), part)


def _test_part(test):
    tags = test.get("tags") or ["?"]
    return str(tags[0])


def _test_id(test):
    extra = test.get("extra_data") or {}
    return str(extra.get("test") or test.get("name", "?"))


def summary(rows: list[Row], parts: list[str]) -> dict:
    """The class summary, JSON-able and deterministic (see the module docstring for who counts where).

    - `counts`: students, graded, errors, timeouts, full_marks (graded students with every point of a
      rubric worth more than 0).
    - `max_score`: what the class is graded out of (the rubric total the results agree on), or None.
    - `score`: over graded students, `points` and `fraction` (of each student's max), each with mean,
      median, min, max and stdev (population: the class is all there is); None when nobody was graded.
    - `parts`: per rubric part, in rubric order: max_score, mean points, mean_fraction, full_marks and
      pass_rate (the fraction of graded students with full points in the part; None for a part worth 0).
    - `tests`: per "part/test", in rubric order: part, test, name, max_score, passed, pass_rate.
    - `diagnoses`: a list, most frequent first (then part, slug): part, slug, count (students, each
      counted once however many of their tests were diagnosed with it), students (sorted).
    - `errors`, `timeouts`: [{student, name, message}] sorted by student.
    """
    parts = _check_parts(parts)
    rows = _sorted_rows(rows)
    graded = [row for row in rows if row.status == "graded"]
    class_max = _class_max(graded)
    order = _part_order(parts)

    full_marks = sum(1 for row in graded if _full(row.score, float(_result(row)["max_score"])))
    fractions = [row.score / float(_result(row)["max_score"]) for row in graded if float(_result(row)["max_score"]) > 0]
    score = None
    if graded:
        score = {"points": _stats([row.score for row in graded]), "fraction": _stats(fractions)}

    part_summary = {}
    for part in parts:
        scores = [row.part_score(part) or (0.0, 0.0) for row in graded]
        most = _part_max(graded, part)
        full = sum(1 for points, top in scores if _full(points, top))
        worth = most is not None and most > 0
        part_summary[part] = {
            "max_score": _round(most),
            "mean": _round(statistics.fmean(points for points, _ in scores)) if scores else None,
            "mean_fraction": (
                _round(statistics.fmean(points / most for points, _ in scores)) if scores and worth else None
            ),
            "full_marks": full,
            "pass_rate": _rate(full, len(graded)) if worth else None,
        }

    tests: dict[str, dict] = {}
    positions: dict[str, int] = {}
    diagnosed: dict[tuple[str, str], set[str]] = {}
    for row in graded:
        for position, test in enumerate(_result(row)["tests"]):
            part, test_id = _test_part(test), _test_id(test)
            key = f"{part}/{test_id}"
            positions.setdefault(key, position)  # the results list tests in rubric order
            entry = tests.setdefault(
                key,
                {
                    "part": part,
                    "test": test_id,
                    "name": str(test.get("name", test_id)),
                    "max_score": _round(test["max_score"]),
                    "passed": 0,
                },
            )
            entry["passed"] += test.get("status") == "passed"
            slug = (test.get("extra_data") or {}).get("diagnosis")
            if slug:
                diagnosed.setdefault((part, str(slug)), set()).add(row.student)
    for entry in tests.values():
        entry["pass_rate"] = _rate(entry["passed"], len(graded))
    ordered_tests = sorted(tests.items(), key=lambda item: (order(item[1]["part"]), positions[item[0]], item[0]))

    diagnoses: list[dict] = [
        {"part": part, "slug": slug, "count": len(students), "students": sorted(students)}
        for (part, slug), students in diagnosed.items()
    ]
    diagnoses.sort(key=lambda entry: (-entry["count"], order(entry["part"]), entry["slug"]))

    def problems(status):
        return [
            {"student": row.student, "name": row.name, "message": row.message} for row in rows if row.status == status
        ]

    return {
        "counts": {
            "students": len(rows),
            "graded": len(graded),
            "errors": sum(1 for row in rows if row.status == "error"),
            "timeouts": sum(1 for row in rows if row.status == "timeout"),
            "full_marks": full_marks,
        },
        "max_score": _round(class_max),
        "score": score,
        "parts": part_summary,
        "tests": dict(ordered_tests),
        "diagnoses": diagnoses,
        "errors": problems("error"),
        "timeouts": problems("timeout"),
    }


def parts_of(results):
    """The rubric's parts, in its order, as the results name them."""
    for result in results.values():
        if result is not None:
            return list(result["extra_data"]["parts"])
    return []
