"""A group submission as one gradebook row per member: Gradescope's second submitter gets a grade too.

The batch grades a group's submission once (one `OUT/results/<id>.json`); the class outputs (scores.csv,
summary, report) list each member on a line of their own, with the group's result. A member's id is
made as discovery makes ids (their student id, else their e-mail's local part, else their name), and
is unique in the class: one taken already gets `-2`, `-3`... And how a student's name is shown to people
(`display_name`): the id is for file names, a name not in ASCII is read as written.
"""

from __future__ import annotations

from grader.inputs.discover import MAX_GROUP as MAX_MEMBERS
from grader.inputs.discover import safe_id

from .class_summary import Row


def display_name(student: str, name: str | None) -> str:
    """How a person reads who a student is: their name in its own script where the id could not spell it.

    An id is a safe file name, ASCII only: `李雷.py` becomes `student-3a47328a`, `José` `Jose`. Where the
    name is not ASCII, a person reads the name instead: alone when the id is only its file-name spelling
    (a plain folder's `李雷`), else followed by the id, which is what tells two 王小明 of an LMS apart
    (`王小明 (4822)`). An ASCII name, or none, reads as the id, as it always has. Untrusted text, like both
    of its parts: escape it for where it is shown. (Here rather than in class_summary, which discovery's
    Moodle worksheet reader imports.)
    """
    if not name or name.isascii() or name == student:
        return student
    return name if safe_id(name) == student else f"{name} ({student})"


def members_of(result: dict | None) -> list[dict]:
    """The members of a group result ([{name, id, email}]); [] for a submission of one or no result."""
    if result is None:
        return []
    extra = result.get("extra_data") or {}
    members = extra.get("members")
    if not extra.get("group") or not isinstance(members, list):
        return []
    return [member for member in members if isinstance(member, dict)]


def member_id(member: dict) -> str:
    """A member's id as discovery would make it: sid, else the e-mail's local part, else the name."""
    for candidate in (member.get("id"), str(member.get("email") or "").partition("@")[0], member.get("name")):
        if isinstance(candidate, str) and candidate.strip():
            return safe_id(candidate.strip())
    return safe_id("member")


def expand(pairs):
    """[(student, name, result)] with each group replaced by its members, ids unique ignoring case.

    `pairs` holds one (entry's id, display name, result) per graded submission; the entries' own ids
    are kept as they are (they are the result files' names), members get theirs after them."""
    # Every entry's id is taken, a group's too: it names that group's result file and feedback page.
    taken = {student.casefold() for student, _, _ in pairs}
    next_number = {}  # base -> where the search for its next free number resumes (linear, not quadratic)
    expanded = []
    for student, name, result in pairs:
        members = members_of(result)
        if not members:
            expanded.append((student, name, result))
            continue
        own = student.casefold()  # the group's own id (its first submitter's) is free for one of its members
        for member in members[:MAX_MEMBERS]:
            base = member_id(member)
            if base.casefold() == own:
                unique, own = base, None
            else:
                unique, number = base, next_number.get(base.casefold(), 2)
                while unique.casefold() in taken:
                    unique, number = f"{base}-{number}", number + 1
                next_number[base.casefold()] = number
            taken.add(unique.casefold())
            expanded.append((unique, str(member.get("name") or unique), result))
    return expanded


def rows_of(entries, results):
    """A Row per student whose result exists (a run interrupted before a student has no row for it)."""
    rows = []
    found = [
        (entry.student, entry.name, results[entry.student])
        for entry in entries
        if results.get(entry.student) is not None
    ]
    for student, name, result in expand(found):  # a group: a row per member (see members.py)
        status = result["extra_data"].get("status", "graded")
        message = "" if status == "graded" else result.get("output", "").splitlines()[0] if result.get("output") else ""
        rows.append(Row(student=student, name=name, status=status, result=result, message=message))
    return rows
