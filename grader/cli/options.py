"""The options several commands share, as argparse parent parsers (`add_parser(..., parents=[...])`).

Shared are the options that mean the same thing, with the same type, default and help, wherever they
appear: `--rubric` and `--seed` (check, batch, gradescope, prairielearn), `--nesterov` (check and the
two platforms that grade), `--lang` (every command whose output students read) and the platforms' `--torch`. The options that only look alike stay with
their command: `--out` is a file, a folder or a zip depending on the command; `--timeout` is a
submission's budget in check and batch (help worded for each) but PrairieLearn's whole-job limit in
whole seconds; `--jobs`, `--json` and `--budget` belong to one command each.
"""

import argparse
from pathlib import Path

from grader import defaults, i18n
from grader.platforms import kit


def _parent():
    return argparse.ArgumentParser(add_help=False)


#: --seed and --rubric: the grading's seed and rubric (check, batch, gradescope, prairielearn).
GRADING = _parent()
GRADING.add_argument("--seed", type=int, default=defaults.SEED, help=f"hypothesis seed (default {defaults.SEED})")
GRADING.add_argument("--rubric", type=Path, default=defaults.RUBRIC, help="a rubric JSON (default: the shipped one)")

#: --nesterov: the opt-in bonus part (check, gradescope, prairielearn).
NESTEROV = _parent()
NESTEROV.add_argument("--nesterov", action="store_true", help="also grade the Nesterov bonus part")

#: --lang: the language of every text students read (assign, release, check, batch and the platforms).
LANGUAGE = _parent()
LANGUAGE.add_argument(
    "--lang",
    choices=i18n.LANGUAGES,
    default=i18n.DEFAULT,
    help=f"the language of what students read: instructions, verdicts, hints, feedback (default {i18n.DEFAULT})",
)

#: --torch for the platforms that install the kit on their own machines (gradescope, prairielearn).
PLATFORM_TORCH = _parent()
PLATFORM_TORCH.add_argument(
    "--torch",
    default=kit.TORCH_SPEC,
    help=f"the torch requirement installed from PyTorch's CPU index (default: {kit.TORCH_SPEC}, "
    "the version the kit was tested with; `torch` for the newest)",
)
