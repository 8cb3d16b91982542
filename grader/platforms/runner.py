"""Grading one submission for a platform (Gradescope, PrairieLearn): its settings, finding the student's
file in the folder the platform hands over, and a report for every outcome, so a results file can always
be written.

Standard library only at import time: the warm worker is started before torch is imported here, so
the two imports overlap (as `check` does).
"""

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader import i18n
from grader.errors import OptimkitError
from grader.i18n import _
from grader.inputs.regular_files import UnreadableFile, read_regular
from grader.inputs.submission import SUFFIXES, SubmissionError
from grader.outputs.results import GradeReport, TestResult
from grader.sandbox.launcher import Zygote

from .. import __version__, defaults

SETTINGS_FILE = "optimkit.json"
RUBRIC_FILE = "rubric.json"
PREFERRED_NAMES = ("optimizers.py", "optimizers.ipynb")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_SKIPPED_FOLDERS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git"}
_MAX_ENTRIES = 10_000  # a submission folder is a few files; a bigger one is not searched further
_MAX_DEPTH = 8


class SettingsError(OptimkitError, ValueError):
    """The settings file shipped with the autograder cannot be used (an instructor's mistake)."""


@dataclass(frozen=True)
class Settings:
    """How a platform grades: written by `python -m grader gradescope|prairielearn`, read at grading time."""

    rubric: str = RUBRIC_FILE  # relative to the settings file's folder
    nesterov: bool = False
    seed: int = defaults.SEED
    budget: float = 420.0  # seconds for the whole submission; the platform's own limit must be larger
    names: tuple = PREFERRED_NAMES  # the file graded when a submission holds several .py/.ipynb files
    visibility: dict = field(default_factory=lambda: {"default": "visible", "parts": {}})
    # The verdicts' language: the one spoken where the settings are made (the command's --lang); written to
    # the file only when it is not English, so that an English autograder's settings read as before.
    language: str = field(default_factory=i18n.language)

    def to_json(self):
        return (
            json.dumps(
                {
                    "rubric": self.rubric,
                    "nesterov": self.nesterov,
                    "seed": self.seed,
                    "budget": self.budget,
                    "names": list(self.names),
                    "visibility": self.visibility,
                    **({"lang": self.language} if self.language != i18n.DEFAULT else {}),
                },
                indent=2,
            )
            + "\n"
        )


def parse_visibility(specs):
    """--visibility values ("after_due_date", "adam=hidden") as {"default": ..., "parts": {part: ...}}."""
    from grader.judge.parts import PARTS  # noqa: PLC0415 -- torch (the reference): after a platform run's zygote starts

    chosen = {"default": "visible", "parts": {}}
    for spec in specs or ():
        part, _equals, value = spec.rpartition("=")
        if value not in VISIBILITIES:
            raise SettingsError(f"--visibility {spec!r}: the visibility must be one of {', '.join(VISIBILITIES)}")
        if not part:
            chosen["default"] = value
        elif part in PARTS:
            chosen["parts"][part] = value
        else:
            raise SettingsError(f"--visibility {spec!r}: {part!r} is not a part; known: {', '.join(PARTS)}")
    return chosen


def load_settings(path):
    """The Settings in `path` (a JSON file); SettingsError naming the file and the field at fault."""
    try:
        data = json.loads(read_regular(path, 1 << 20).decode("utf-8"))
    except (UnreadableFile, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a JSON object")
    settings = Settings()
    checks = {"rubric": str, "nesterov": bool, "seed": int, "budget": (int, float), "names": list, "visibility": dict}
    for key, kind in checks.items():
        value = data.get(key)
        if key in data and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
            raise SettingsError(f"{path}: {key!r} has the wrong type ({type(value).__name__})")
    if not all(isinstance(name, str) for name in data.get("names", ())):
        raise SettingsError(f"{path}: 'names' must be a list of file names")
    if data.get("lang", i18n.DEFAULT) not in i18n.LANGUAGES:
        raise SettingsError(f"{path}: 'lang' must be one of {', '.join(i18n.LANGUAGES)}")
    visibility = data.get("visibility", settings.visibility)
    if (
        visibility.get("default") not in VISIBILITIES
        or not isinstance(visibility.get("parts", {}), dict)
        or any(value not in VISIBILITIES for value in visibility.get("parts", {}).values())
    ):
        raise SettingsError(
            f'{path}: \'visibility\' must be {{"default": V, "parts": {{part: V}}}} with V one of '
            f"{', '.join(VISIBILITIES)}"
        )
    budget = data.get("budget", settings.budget)
    if not 0 < budget <= defaults.LONGEST_BUDGET:  # nan and inf too
        raise SettingsError(
            f"{path}: 'budget' must be a number of seconds above 0 and at most {defaults.LONGEST_BUDGET:g}"
        )
    return Settings(
        rubric=data.get("rubric", settings.rubric),
        nesterov=data.get("nesterov", False),
        seed=data.get("seed", settings.seed),
        budget=float(budget),
        names=tuple(str(name) for name in data.get("names", settings.names)),
        visibility={"default": visibility["default"], "parts": dict(visibility.get("parts", {}))},
        language=data.get("lang", i18n.DEFAULT),
    )


def find_submission(folder, names=PREFERRED_NAMES):
    """The student's file in the folder a platform hands over: the only .py/.ipynb in it (at any depth),
    or else the only one named as in `names`. SubmissionError, listing what is there, otherwise.

    Symbolic links to folders are never followed, so a link cannot make the grader read a file outside
    the folder; a file that is a link is returned, and refused by the reader with the reason.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(_("no submission folder at {folder}").format(folder=folder))
    found, others, seen = [], [], 0
    for current, folders, files in os.walk(folder):
        depth = len(Path(current).relative_to(folder).parts)
        folders[:] = sorted(
            name for name in folders if name not in _SKIPPED_FOLDERS and not name.startswith(".") and depth < _MAX_DEPTH
        )
        for name in sorted(files):
            seen += 1
            relative = Path(current, name).relative_to(folder)
            if name.startswith("."):
                continue
            (found if Path(name).suffix in SUFFIXES else others).append(relative)
        if seen > _MAX_ENTRIES:
            break
    if len(found) == 1:
        return folder / found[0]
    named = [path for path in found if path.name in names]
    if len(named) == 1:
        return folder / named[0]
    if not found:
        listing = ", ".join(str(path) for path in others[:10]) or _("nothing")
        raise SubmissionError(
            _("the submission holds no .py or .ipynb file (it holds {listing}); hand in {names}").format(
                listing=listing, names=_(" or ").join(names) or _("one .py or .ipynb file")
            )
        )
    listing = ", ".join(str(path) for path in (named or found)[:10])
    raise SubmissionError(
        _(
            "the submission holds several files that could be the one to grade ({listing}); hand in exactly one, "
            "named {names}"
        ).format(listing=listing, names=_(" or ").join(names) or _("as the assignment says"))
    )


def grade(folder, settings, settings_folder, zygote=None):
    """Grade the submission in `folder` with `settings`; a GradeReport for every outcome of the student's
    file (unreadable: status "error", every test failed, the reason in its output).

    zygote: a warm worker to use (tests); else one is started here and stopped after.
    Raises only for the instructor's or the machine's faults (a bad rubric, no worker).
    """
    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: after a platform run's zygote starts

    started = time.monotonic()
    i18n.set_language(settings.language)  # every verdict from here on, in the language the autograder was made in
    rubric_path = Path(settings_folder) / settings.rubric
    try:
        # Only found here: grading reads it, within the submission's budget and the hard deadline behind it.
        found = find_submission(folder, settings.names)
    except SubmissionError as error:
        chosen = rubric_module.load(rubric_path, enable=_enabled(settings))
        return unreadable_report(chosen, str(error), settings.seed, time.monotonic() - started)
    if zygote is None:
        with Zygote() as own:
            return _grade(found, own, rubric_path, settings)
    return _grade(found, zygote, rubric_path, settings)


def _grade(found, zygote, rubric_path, settings):
    from grader import grading  # noqa: PLC0415 -- torch: after a platform run's zygote starts
    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: after a platform run's zygote starts

    from . import exposure  # noqa: PLC0415 -- torch: after a platform run's zygote starts

    chosen = rubric_module.load(rubric_path, enable=_enabled(settings))
    if zygote.isolation is None:  # known from a first fork: ask for one (the probe below needs it anyway)
        zygote.fork({})[0].close()
    warning = exposure.check(zygote, rubric_path.parent)  # raises AnswersReadable: no grade at all
    report, _spent = grading.grade_bounded(
        found, zygote=zygote, rubric=chosen, seed=settings.seed, budget=settings.budget
    )
    return report if warning is None else dataclasses.replace(report, output=f"{warning}\n\n{report.output}")


def _enabled(settings):
    return ("nesterov",) if settings.nesterov else ()


def unreadable_report(chosen, message, seed, elapsed, name="submission"):
    """A report of a submission that could not be read: every test failed with `message`."""
    tests = tuple(
        TestResult(
            test.part,
            test.test,
            test.title,
            test.points,
            False,
            _("the submission could not be read: {error}").format(error=message),
        )
        for test in chosen.tests
    )
    return GradeReport(
        submission=name,
        sha256="",
        tests=tests,
        output=_("The submission could not be read: {error}").format(error=message),
        grader_version=__version__,
        seed=seed,
        devices=("cpu",),
        execution_time=elapsed,
        status="error",
    )


def truncate(text, limit, note="[... {count} more characters cut]"):
    """`text` cut to about `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    tail = "\n" + note.format(count=len(text) - limit)
    return text[: max(0, limit - len(tail))] + tail
