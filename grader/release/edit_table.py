"""The self-check's table of edits (trusted side, at release): every single edit of the reference rule that
the grader's edit search considers, run on the part's public single_step cases, grouped by what it returns,
keyed and encrypted by those values (grader/release/selfcheck/edit_lookup.py says how and why).

For each group of candidates that round to the same text, the readings shown are the ones the grader's
search would show a student returning the group's values (`grader.explain.edits.explain` itself picks them);
a candidate that returns the reference's values, or a known mistake's (the bank wins), or no finite entry in
some returned value, is left out. Pairs of edits are not tabled: Adam's 757 single edits make hundreds of
thousands of pairs, where the singles of all five rules already take 0.9 MB (docs/instructors/release.md).
"""

from dataclasses import replace

import numpy as np

from grader.explain import edits
from grader.explain.edits.matching import _floors
from grader.explain.mistakes import optimizer_for

from .selfcheck import edit_lookup as lookup


def _array(encoded):
    if isinstance(encoded, dict) and "tensor" in encoded:
        tensor = encoded["tensor"]
        return np.asarray(tensor["data"], dtype=np.float64).reshape(tensor["shape"])
    return float(encoded)


def _recorded(spec, case, record):
    """A known mistake's recorded outcome of one call as arrays of the call's shape (None: it raised)."""
    if not isinstance(record, dict) or "seq" not in record:
        return None
    return lookup.expected_values(spec, dict(case, expected=record))


def part_table(part: str, spec: dict) -> dict:
    """{key: [sealed payload, ...]} for one optimizer part whose cases (`spec`, as in cases.json) are built."""
    program = edits.Rule.from_function(getattr(optimizer_for(part), part))
    cases = spec["single_step"]
    names = ("x", *spec["state"])
    if program.inputs[:-1] != ("x", "gradient_x", *spec["state"]) or not set(program.hyper) <= set(spec["hyper"]):
        raise ValueError(f"{part}: the rule's arguments are not the cases' ({program.inputs}, {program.hyper})")
    layouts = [lookup.case_layout(spec, case) for case in cases]
    # The search judges its first call alone first: the call with the most entries (and state) tells most apart.
    order = sorted(range(len(cases)), key=lambda case: -int(np.prod(layouts[case][0])))
    ordered = [cases[case] for case in order]
    calls = [[_array(case["x"]), _array(case["gradient_x"]), *(_array(v) for v in case["state"])] for case in ordered]
    hyper = {name: [case["hyper"][spec["hyper"].index(name)] for case in ordered] for name in program.hyper}
    init_lr = [case["init_lr"] for case in ordered]
    table = edits.candidate_table(program, calls, hyper, init_lr)
    floors = _floors(table)

    # The candidates: every single edit but those that reproduce the rule, and each swap of two hyperparameters.
    pool = [candidate for (candidate, _), noop in zip(table.singles, table.noop) if not noop]
    blocks = [table.outputs[~table.noop]]
    if table.extra:
        alone = [k for k, candidate in enumerate(table.extra) if len(candidate.edits) == 1]
        pool += [table.extra[k] for k in alone]
        blocks.append(table.extra_outputs[alone])
    outputs = np.concatenate(blocks)  # [C, n_out, N]
    segments = [table.layout.segments[order.index(case)] for case in range(len(cases))]  # by the cases' order

    def values_of(c):
        return [
            [outputs[c, slot, start:stop].reshape(shape) for slot in range(len(names))]
            for (start, stop), (shape, _dtype, _x) in zip(segments, layouts)
        ]

    units = [lookup.UNIT[dtype] for _shape, dtype, _x in layouts]
    expected = [lookup.expected_values(spec, case) for case in cases]
    banned = [expected]
    for mistake in spec["mistakes"]:
        recorded = [_recorded(spec, case, record) for case, record in zip(cases, mistake["single_step"])]
        if all(values is not None for values in recorded):
            banned.append(recorded)

    finite = np.zeros((len(pool), len(names)), dtype=bool)
    same = np.ones((len(pool), len(banned)), dtype=bool)  # [candidate, banned]: all values agree so far
    as_reference = np.zeros((len(pool), len(cases), len(names)), dtype=bool)  # the reference's value, at 2u
    for case, ((start, stop), (_shape, _dtype, x_in), unit) in enumerate(zip(segments, layouts, units)):
        for slot, name in enumerate(names):
            block = outputs[:, slot, start:stop]
            finite[:, slot] |= np.isfinite(block).any(axis=-1)
            floor = float(np.abs(x_in).max()) if slot == 0 and x_in.size else 0.0
            as_reference[:, case, slot] = lookup.agrees(block, expected[case][slot].reshape(-1), unit / 8)
            wanted = np.stack([values[case][slot].reshape(-1) for values in banned])
            same &= lookup.agrees(block[:, None], wanted[None], unit, floor, exact=name == "t")
    keep = finite.all(axis=1) & ~same.any(axis=1)

    kept = np.flatnonzero(keep)
    rows = []  # per case, each kept candidate's text of that call
    for start, stop in segments:
        slots = [lookup.slot_texts(outputs[kept, slot, start:stop]) for slot in range(len(names))]
        rows.append(["|".join(texts) for texts in zip(*slots)])
    groups: dict = {}
    for c, parts in zip(kept.tolist(), zip(*rows)):
        groups.setdefault(";".join(parts), []).append(c)

    clustered = []  # (text, [cluster]): the candidates of one text whose values agree, one payload per cluster
    for text, members in groups.items():
        clusters: list[list[int]] = []
        for c in members:
            for cluster in clusters:
                if np.array_equal(outputs[c], outputs[cluster[0]], equal_nan=True) or lookup.values_agree(
                    spec, values_of(c), values_of(cluster[0]), units
                ):
                    cluster.append(c)
                    break
            else:
                clusters.append([c])
        clustered.append((text, clusters))

    # Which single edits may agree with each cluster's values: judged with twice the search's tolerance on the
    # table's first call for many at once, then on every call (the search then judges these few exactly).
    singles = np.flatnonzero(~table.noop)
    first_call = slice(*table.layout.segments[0])
    firsts = [cluster[0] for _text, clusters in clustered for cluster in clusters]
    scale = floors.max(axis=1)[:, None]
    near = {}
    for start in range(0, len(firsts), 64):
        chunk = firsts[start : start + 64]
        agree = lookup.agrees(
            outputs[None, : len(singles), :, first_call],
            outputs[chunk][:, None, :, first_call],
            2 * edits.FLOAT32_RTOL / lookup.FACTOR,
            floors[:, first_call][:, :1],
        ).all(axis=-1)
        for c, row in zip(chunk, agree):
            maybe = np.flatnonzero(row)  # then on every call, with the largest entries' scale (still a superset)
            close = lookup.agrees(outputs[maybe], outputs[c][None], 2 * edits.FLOAT32_RTOL / lookup.FACTOR, scale)
            near[c] = singles[maybe[close.all(axis=-1)]]

    sealed_table = {}
    for text, clusters in clustered:
        payloads = []
        for cluster in clusters:
            first = values_of(cluster[0])
            ordered_values = [first[k] for k in order]
            readings = _readings(program, calls, hyper, init_lr, table, near[cluster[0]], ordered_values, pool, cluster)
            if readings:
                values = [
                    [None if same_as_reference else value for value, same_as_reference in zip(row, flags)]
                    for row, flags in zip(first, as_reference[cluster[0]])
                ]
                payloads.append(lookup.pack(readings, values, [dtype for _shape, dtype, _x in layouts]))
        if payloads:
            secret = lookup.table_secret(part, text)
            sealed_table[lookup.table_key(part, text)] = [
                lookup.seal(secret, index, payload) for index, payload in enumerate(payloads)
            ]
    return sealed_table


def _readings(program, calls, hyper, init_lr, table, near, values, pool, cluster):
    """What the grader's search shows a student who returns `values`: its readings' descriptions.

    `edits.explain` picks them, weighing only the single edits `near` (those that may agree with `values`, a
    superset of those that do). A swap of two hyperparameters, which the search tries with the pairs, is one
    edit where no single edit agrees: the search shows it, as here, before any pair."""
    answers = [tuple(row) for row in values]  # in the table's order of calls
    own = [k for k in near if table.singles[k][0] is pool[cluster[0]]]
    if len(near) == 1 and own:
        # One edit agrees: the search shows it (its choice among several is what is worth asking it for). The
        # candidates that give the reference's values are left out already.
        return [edits.Explanation(program, [pool[cluster[0]]], 1).describe(pool[cluster[0]])]
    found = None
    if len(near):
        subset = replace(
            table,
            singles=[table.singles[k] for k in near],
            outputs=table.outputs[near],
            noop=table.noop[near],
            states=[table.states[k] for k in near],
        )
        found = edits.explain(
            program, calls, answers, hyper=hyper, init_lr=init_lr, table=subset, rtol=edits.FLOAT32_RTOL, max_edits=1
        )
    if found is None:
        swaps = [pool[c] for c in cluster if pool[c].swap and len(pool[c].edits) == 1]
        return [edits.Explanation(program, swaps, len(swaps)).describe(swap) for swap in swaps]
    return [found.describe(candidate) for candidate in found.readings]
