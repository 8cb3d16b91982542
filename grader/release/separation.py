"""A release is refused when its cases cannot tell two known mistakes apart (or one from the correct
rule): the self-check names a mistake from its outputs alone, so a wrong name must be impossible."""

from .selfcheck import values, wire


def _as_answer(record):
    return record if "error" in record else {"ok": wire.decode(record)}


def inseparable(parts):
    """The first pair of records (the correct rule's, each known mistake's) that the public cases cannot tell
    apart, said as the release's refusal; None if every pair differs somewhere."""
    for tag, part in parts.items():
        if "mistakes" not in part:
            continue
        correct = {
            "single_step": [case["expected"] for case in part["single_step"]],
            "sequence": [case["expected"] for case in part["sequence"]],
            "slug": "the correct rule",
        }
        records = [correct] + part["mistakes"]
        for index, first in enumerate(records):
            for second in records[index + 1 :]:
                same = all(
                    values._same(_as_answer(a), b)
                    for test in ("single_step", "sequence")
                    for a, b in zip(first[test], second[test])
                )
                if same:
                    return f"{tag}: the public cases cannot tell {first['slug']} from {second['slug']}"
    return None
