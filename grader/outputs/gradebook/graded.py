"""The batch's results as a gradebook sees them: who, by which LMS id, with what score, or why not."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.inputs.regular_files import UnreadableFile, read_regular

from . import GradebookError

MAX_RESULT_BYTES = 16 * 2**20
_CANVAS_ID_TAIL = re.compile(r"_(\d+)$")  # results written before the LMS id was recorded: `smithjane_4821`


@dataclass(frozen=True)
class Graded:
    """One submission's result, read back from OUT/results/<student>.json."""

    student: str
    name: str
    layout: str
    lms_id: str
    group: bool
    members: tuple[dict, ...]
    status: str
    score: float
    max_score: float
    result: dict
    path: Path

    @property
    def graded(self) -> bool:
        """A verdict worth a grade: graded to the end. An error or a timeout needs a person, or a rerun."""
        return self.status == "graded"

    def why_not(self) -> str:
        if self.status == "timeout":
            return "timed out (run the batch again: a timeout is regraded)"
        first = (self.result.get("output") or "").strip().splitlines()
        return f"not graded: {first[0] if first else self.status}"


def load_results(out: Path | str) -> list[Graded]:
    """Every result of the batch in `out`, sorted by student; GradebookError if there are none."""
    out = Path(out)
    folder = out / "results"
    if not folder.is_dir():
        raise GradebookError(f"{out}: no results/ folder; run `python -m grader batch SUBMISSIONS --out {out}` first")
    graded = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            data = json.loads(read_regular(path, MAX_RESULT_BYTES).decode("utf-8"))
            extra = data["extra_data"]
            score, most = float(data["score"]), float(data["max_score"])
        except (UnreadableFile, OSError, ValueError, KeyError, TypeError) as error:
            raise GradebookError(f"{path}: not a result the batch wrote ({error}); run the batch again") from None
        student = str(extra.get("student") or path.stem)
        layout = str(extra.get("layout") or "plain")
        lms_id = str(extra.get("lms_id") or "")
        if not lms_id and layout == "canvas" and (match := _CANVAS_ID_TAIL.search(student)):
            lms_id = match[1]
        members = tuple(m for m in extra.get("members") or () if isinstance(m, dict))
        graded.append(
            Graded(
                student=student,
                name=str(extra.get("name") or student),
                layout=layout,
                lms_id=lms_id,
                group=bool(extra.get("group")),
                members=members,
                status=str(extra.get("status") or "graded"),
                score=score,
                max_score=most,
                result=data,
                path=path,
            )
        )
    if not graded:
        raise GradebookError(f"{folder}: no results; run `python -m grader batch SUBMISSIONS --out {out}` first")
    return graded


def scaled(graded: Graded, maximum: float) -> float:
    """The score out of `maximum`, never above it (nor below 0), rounded to the 2 decimals LMSs keep."""
    if graded.max_score <= 0:
        return 0.0
    value = round(graded.score / graded.max_score * maximum, 2)
    return min(max(value, 0.0), maximum)


def feedback_text(graded: Graded) -> str:
    """A plain-text account of one result: the score, each part, each failed test and why."""
    data = graded.result
    lines = [f"optimkit: {data['score']:g} / {data['max_score']:g} points"]
    if graded.status != "graded":
        lines.append(graded.why_not())
    parts = (data.get("extra_data") or {}).get("parts") or {}
    for part, scores in parts.items():
        try:
            lines.append(f"{part}: {float(scores['score']):g} / {float(scores['max_score']):g}")
        except (KeyError, TypeError, ValueError):
            continue
    failed = [test for test in data.get("tests") or () if isinstance(test, dict) and test.get("status") == "failed"]
    if failed and graded.status == "graded":
        lines.append("")
        for test in failed:
            lines.append(f"FAILED {test.get('name', '?')} ({test.get('score', 0):g}/{test.get('max_score', 0):g})")
            output = str(test.get("output") or "").strip()
            if output:
                lines += ["    " + line for line in output.splitlines()[:20]]
    return "\n".join(lines) + "\n"


def summary_comment(graded: Graded) -> str:
    """One short line for a gradebook's comment cell."""
    data = graded.result
    parts = (data.get("extra_data") or {}).get("parts") or {}
    shown = ", ".join(
        f"{part} {float(s.get('score', 0)):g}/{float(s.get('max_score', 0)):g}"
        for part, s in parts.items()
        if isinstance(s, dict)
    )
    text = f"optimkit: {data['score']:g}/{data['max_score']:g}" + (f" ({shown})" if shown else "")
    if graded.status != "graded":
        text += f"; {graded.why_not()}"
    return text
