"""Beyond the known mistakes: which edit of the update rule gives the student's values, looked up in a table
that the release computed (each optimizer part's "edits" in cases.json), never searched here.

Standalone: the standard library and numpy only, beside the bundle's language module (`.i18n`) and the
grader's comparison (`closeness.py`, whose tolerance it applies). The release's
side (grader/release/edit_table.py) uses the same functions to write the table.

Why a table of hashes. The kit's grader finds such an edit by searching edits of the reference rule; the
bundle can ship neither that search nor the rule nor the edits' descriptions in clear (a student would read
the rule from them piece by piece). So the release runs every candidate edit on the part's public
single_step cases, rounds what each returns to BITS bits below the largest entry of each returned value in
each case, and writes that as canonical text: the table's key is one sha256 of the text (with the part), the
description and the candidate's values are encrypted with another sha256 of the same text. Here the
student's own answers give the text, so the key and the secret; the description is shown only where the
student's values agree with the decrypted ones on every case within twice the grading tolerance. Values
near a rounding boundary are covered by trying each rounding that tolerance allows (at most MAX_KEYS texts).
"""

import base64
import hashlib
import hmac
import itertools
import json
import math
import zlib
from itertools import product

import numpy as np

from . import closeness
from .i18n import _, ngettext

#: Bits kept of each returned value, below the largest |entry| of that value in its case (about 2.4 digits).
BITS = 8
#: Twice the grading tolerance of one call (closeness.tolerance): |got - wanted| <= FACTOR·u·(|wanted| + S).
FACTOR = 2 * closeness.tolerance(1, "float64") / closeness.UNIT_ROUNDOFF["float64"]
#: The most roundings of one student's answers tried (each a sha256 and a dictionary lookup).
MAX_KEYS = 256
KEY_TAG = b"optimkit edit table 1: key\0"
SECRET_TAG = b"optimkit edit table 1: secret\0"
MAC_BYTES = 16
#: Bits of a float32 value kept beyond its rounding in the canonical text: the value to 2^-(BITS + 17) of the
#: largest |entry|, well inside the 2^-20 that twice the tolerance allows at least.
REMAINDER_BITS = 16
UNIT = closeness.UNIT_ROUNDOFF


# ------------------------------------------------------------------------------------ the cases' layout


def _encoded_shape(value):
    return tuple(value["tensor"]["shape"]) if isinstance(value, dict) and "tensor" in value else ()


def case_layout(spec, case):
    """(shape of one call's entries, its dtype, the input x's values): the broadcast shape of its arguments."""
    values = [case["x"], case["gradient_x"], *case["state"]]
    shape = tuple(np.broadcast_shapes(*(_encoded_shape(value) for value in values)))
    x = case["x"]["tensor"]
    return shape, x["dtype"], np.asarray(x["data"], dtype=np.float64)


def expected_values(spec, case):
    """The reference's returned values of one call as float64 arrays of the call's shape."""
    shape = case_layout(spec, case)[0]
    return [_full(value, shape) for value in case["expected"]["seq"]]


def _full(value, shape):
    if isinstance(value, dict) and "tensor" in value:
        array = np.asarray(value["tensor"]["data"], dtype=np.float64).reshape(value["tensor"]["shape"])
    else:
        array = np.asarray(float(value))
    return np.broadcast_to(array, shape).astype(np.float64)


def student_values(spec, answers):
    """The student's single_step answers as [[float64 array of the call's shape per returned value] per case]
    and the unit roundoff per case (the coarser of the case's dtype and the student's); None where a call
    raised, returned another number of values, or a value is not a real tensor or number of the call's shape."""
    names = ("x", *spec["state"])
    cases, answers = spec["single_step"], answers.get("single_step")
    if not isinstance(answers, list) or len(answers) != len(cases):
        return None
    values, units = [], []
    for case, answer in zip(cases, answers):
        shape, dtype, _x = case_layout(spec, case)
        got = answer.get("ok") if isinstance(answer, dict) else None
        if isinstance(got, dict) and "result" in got:
            got = got["result"]
        if not isinstance(got, tuple) or len(got) != len(names):
            return None
        row, unit = [], UNIT.get(dtype, 2.0**-8)
        for name, value in zip(names, got):
            array = getattr(value, "array", None)
            if isinstance(value, bool):
                return None
            if isinstance(value, (int, float)):
                array = np.full(shape, float(value))
            elif array is None or not str(getattr(value, "dtype", "")).startswith(("float", "bfloat", "int")):
                return None
            elif array.shape != shape:
                if name != "t" or array.size != 1:
                    return None
                array = np.full(shape, float(array.reshape(-1)[0]))
            else:
                unit = max(unit, UNIT.get(str(value.dtype), 0.0))
            row.append(np.asarray(array, dtype=np.float64))
        values.append(row)
        units.append(unit)
    return values, units


# ------------------------------------------------------------------------------------ the canonical text


def _exponent(scale):
    return math.frexp(scale)[1] if scale > 0 and math.isfinite(scale) else 0


def _rounded(values, exponents):
    """values [..., n] as multiples of 2^(exponent - BITS) (one exponent per row): (multiples, quantum)."""
    quantum = np.ldexp(1.0, np.asarray(exponents) - BITS)[..., None]
    with np.errstate(all="ignore"):
        return np.floor(values / quantum + 0.5), quantum


def _token(value, multiple):
    if math.isfinite(value):
        return str(int(multiple))
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _tokens(values, exponent):
    """Each entry rounded to a multiple of 2^(exponent - BITS), as text; nan, inf and -inf as they are."""
    flat = values.reshape(-1)
    rounded, _quantum = _rounded(flat, exponent)
    return [_token(v, n) for v, n in zip(flat.tolist(), rounded.tolist())]


def _scales(values):
    """The largest finite |entry| of each row of values [..., n] (0 where none)."""
    finite = np.isfinite(values)
    return np.where(finite, np.abs(np.where(finite, values, 0.0)), 0.0).max(axis=-1, initial=0.0)


def _scale(values):
    return float(_scales(values.reshape(-1)))


def slot_texts(block):
    """Each row of block [C, n] (one returned value of one call, C candidates) as canonical text: the exponent
    of its largest |entry|, then every entry rounded to BITS bits below it."""
    exponents = np.frexp(_scales(block))[1]
    rounded, _quantum = _rounded(block, exponents)
    finite = np.isfinite(block).all(axis=-1).tolist()
    whole = np.where(np.isfinite(rounded), rounded, 0).astype(np.int64).tolist()  # |multiple| <= 2^BITS
    return [
        f"{exponent}:"
        + (",".join(map(str, ints)) if all_finite else ",".join(_token(v, n) for v, n in zip(row, multiples)))
        for exponent, row, multiples, ints, all_finite in zip(
            exponents.tolist(), block.tolist(), rounded.tolist(), whole, finite
        )
    ]


def slot_text(values, exponent=None):
    """One returned value of one call as canonical text (`slot_texts`), or with the given exponent."""
    if exponent is None:
        return slot_texts(values.reshape(1, -1))[0]
    return f"{exponent}:" + ",".join(_tokens(values, exponent))


def canonical_text(values):
    """[[array per returned value] per case] as the text the table's keys are made from."""
    return ";".join("|".join(slot_text(value) for value in row) for row in values)


def _slot_texts(values, window, limit):
    """Every slot text of values off by at most `window` (entrywise) from `values`, the nearest first."""
    texts = []
    scale, reach = _scale(values), float(np.max(window)) if window.size else 0.0
    exponents = [_exponent(scale)]
    exponents += sorted({_exponent(scale - reach), _exponent(scale + reach)} - set(exponents))
    for exponent in exponents:
        quantum = math.ldexp(1.0, exponent - BITS)
        with np.errstate(all="ignore"):
            low = np.floor((values - window) / quantum + 0.5).reshape(-1)
            high = np.floor((values + window) / quantum + 0.5).reshape(-1)
        base = _tokens(values, exponent)
        choices = []
        for index, (lo, hi) in enumerate(zip(low.tolist(), high.tolist())):
            if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
                # Never the whole range (a value far smaller than its window makes it huge): its own token
                # first, then the window's lowest tokens, `limit` in all.
                own = base[index]
                lowest = (str(n) for n in range(int(lo), int(hi) + 1))
                others = [token for token in itertools.islice(lowest, limit) if token != own]
                options = _window_tokens(lo, hi, own) + others
                choices.append((index, options[:limit]))
        for picked in product(*(options for _index, options in choices)):
            tokens = list(base)
            for (index, _options), token in zip(choices, picked):
                tokens[index] = token
            texts.append(f"{exponent}:" + ",".join(tokens))
            if len(texts) >= limit:
                return texts
    return texts


def _window_tokens(lo, hi, token):
    """[token] if the integer text `token` lies in [lo, hi], else []."""
    try:
        return [token] if lo <= int(token) <= hi else []
    except ValueError:
        return []


def _window(values, unit, floor):
    """How far a candidate's value may be from the student's and still agree (with a margin for rounding)."""
    finite = np.isfinite(values)
    scale = max(_scale(values), floor)
    return np.where(finite, 1.25 * FACTOR * unit * (np.abs(np.where(finite, values, 0.0)) + scale), 0.0)


def student_texts(spec, values, units):
    """The canonical texts a candidate that agrees with the student may have, the student's own first."""
    texts = [""]
    for case, row, unit in zip(spec["single_step"], values, units):
        x_in = case_layout(spec, case)[2]
        slots = []
        for index, (name, value) in enumerate(zip(("x", *spec["state"]), row)):
            if name == "t":
                slots.append([slot_text(value)])
                continue
            floor = float(np.abs(x_in).max()) if index == 0 and x_in.size else 0.0
            slots.append(_slot_texts(value, _window(value, unit, floor), MAX_KEYS))
        row_texts = ["|".join(picked) for picked in _bounded_product(slots, MAX_KEYS)]
        separator = ";" if texts != [""] else ""
        texts = [text + separator + row_text for text, row_text in _bounded_product([texts, row_texts], MAX_KEYS)]
    return texts


def _bounded_product(lists, limit):
    """The first `limit` combinations of one item of each list, by the sum of the items' places (nearest first)."""
    combos = [()]
    for items in lists:
        combos = sorted(
            ((*combo, place) for combo in combos for place in range(len(items))), key=lambda places: sum(places)
        )[:limit]
    return [tuple(items[place] for items, place in zip(lists, combo)) for combo in combos]


# ------------------------------------------------------------------------------------ keys and secrets


def table_key(part, text):
    return hashlib.sha256(KEY_TAG + part.encode() + b"\0" + text.encode()).hexdigest()[:32]


def table_secret(part, text):
    return hashlib.sha256(SECRET_TAG + part.encode() + b"\0" + text.encode()).digest()


def _keystream(secret, index, size):
    blocks = (
        hashlib.sha256(secret + index.to_bytes(4, "big") + counter.to_bytes(8, "big")).digest()
        for counter in range(-(-size // 32))
    )
    return b"".join(blocks)[:size]


def _xor(data, stream):
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def seal(secret, index, plaintext):
    """plaintext compressed, XORed with a sha256 counter-mode keystream, authenticated: base64 text."""
    body = zlib.compress(plaintext, 9)
    body = _xor(body, _keystream(secret, index, len(body)))
    mac = hmac.new(secret, index.to_bytes(4, "big") + body, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b64encode(mac + body).decode("ascii").rstrip("=")  # no "=": it reads as no code


def unseal(secret, index, sealed):
    """The plaintext, or None when `secret` is not the one it was sealed with (or the text is damaged)."""
    try:
        data = base64.b64decode(sealed + "=" * (-len(sealed) % 4), validate=True)
    except (ValueError, TypeError):
        return None
    mac, body = data[:MAC_BYTES], data[MAC_BYTES:]
    if not hmac.compare_digest(
        mac, hmac.new(secret, index.to_bytes(4, "big") + body, hashlib.sha256).digest()[:MAC_BYTES]
    ):
        return None
    try:
        return zlib.decompress(_xor(body, _keystream(secret, index, len(body))))
    except zlib.error:
        return None


# ------------------------------------------------------------------------------------ payloads


def pack(readings, values, dtypes):
    """The payload: the readings (descriptions), and the candidate's values (values[case][slot], None where they
    are the reference's `expected`; a bit per returned value and case says which are stored). A float32 case's value is stored as what its
    rounding in the canonical text leaves (REMAINDER_BITS bits of a quantum): the lookup knows the rest from
    the text it matched. A float64 case's value is stored whole."""
    stored, binary = [], []
    for row, dtype in zip(values, dtypes):
        mask = 0
        for slot, value in enumerate(row):
            if value is None:
                continue
            mask |= 1 << slot
            flat = value.reshape(-1)
            if dtype == "float32":
                exponent = _exponent(_scale(flat))
                rounded, quantum = _rounded(flat, exponent)
                with np.errstate(all="ignore"):
                    rest = np.where(np.isfinite(flat), flat / quantum[..., 0] - rounded, 0.0)
                codes = np.clip(np.round(rest * 2.0**REMAINDER_BITS), -(2**15) + 1, 2**15 - 1)
                binary.append(codes.astype("<i2").tobytes())
            else:
                binary.append(flat.astype("<f8").tobytes())
        stored.append(mask)
    header = json.dumps({"readings": list(readings), "stored": stored}, ensure_ascii=False).encode()
    return header + b"\n" + b"".join(binary)


def unpack(spec, plaintext, text):
    """(readings, [[array per returned value] per case]) from a payload sealed under `text`."""
    header, binary = plaintext.split(b"\n", 1)
    header = json.loads(header)
    rows = text.split(";")
    values = [expected_values(spec, case) for case in spec["single_step"]]
    offset = 0
    for case, (mask, row_text) in enumerate(zip(header["stored"], rows)):
        shape, dtype, _x = case_layout(spec, spec["single_step"][case])
        count = int(np.prod(shape)) if shape else 1
        slots = row_text.split("|")
        for slot in range(len(values[case])):
            if not mask >> slot & 1:
                continue
            if dtype == "float32":
                exponent, tokens = slots[slot].split(":")
                codes = np.frombuffer(binary, dtype="<i2", count=count, offset=offset).astype(np.float64)
                offset += 2 * count
                multiples = np.array([float(token) for token in tokens.split(",")])
                value = np.ldexp(multiples + codes / 2.0**REMAINDER_BITS, int(exponent) - BITS)
            else:
                value = np.frombuffer(binary, dtype="<f8", count=count, offset=offset).astype(np.float64)
                offset += 8 * count
            values[case][slot] = value.reshape(shape)
    return header["readings"], values


# ------------------------------------------------------------------------------------ agreement


def agrees(got, wanted, unit, floor=0.0, exact=False):
    """Does `got` agree with `wanted` (arrays of one shape; leading axes broadcast) within twice the grading
    tolerance: non-finite entries at the same places, finite ones within FACTOR·u·(|wanted| + S), S the
    largest finite |wanted| (at least `floor`); exactly where `exact` (a step counter)? Returns bool (array)."""
    got, wanted = np.asarray(got, dtype=np.float64), np.asarray(wanted, dtype=np.float64)
    with np.errstate(all="ignore"):
        finite_w, finite_g = np.isfinite(wanted), np.isfinite(got)
        same = (got == wanted) | (np.isnan(got) & np.isnan(wanted))
        scale = np.maximum(np.where(finite_w, np.abs(wanted), 0.0).max(axis=-1, keepdims=True), floor)
        if exact:
            close = same
        else:
            close = np.where(
                finite_w & finite_g, np.abs(got - wanted) <= FACTOR * unit * (np.abs(wanted) + scale), same
            )
    return close.all(axis=-1)


def values_agree(spec, got, wanted, units):
    """Every returned value of every case agrees (`agrees`), and each value has a finite entry somewhere."""
    names = ("x", *spec["state"])
    finite = [False] * len(names)
    for case, mine, theirs, unit in zip(spec["single_step"], got, wanted, units):
        x_in = case_layout(spec, case)[2]
        for index, (name, a, b) in enumerate(zip(names, mine, theirs)):
            floor = float(np.abs(x_in).max()) if index == 0 and x_in.size else 0.0
            if not agrees(a.reshape(-1), b.reshape(-1), unit, floor, exact=name == "t"):
                return False
            finite[index] = finite[index] or bool(np.isfinite(b).any())
    return all(finite)


# ------------------------------------------------------------------------------------ the lookup


def explanation(spec, answers):
    """The edits of the rule that give every value the student's single_step calls returned, as a sentence for
    the diagnosis; None where the table has none (or the part has no table). Found once per part (kept in
    `answers`, as values.py keeps the matching mistakes)."""
    if "edit_explanation" not in answers:
        answers["edit_explanation"] = _explanation(spec, answers)
    return answers["edit_explanation"]


def _explanation(spec, answers):
    table = spec.get("edits")
    if not table:
        return None
    student = student_values(spec, answers)
    if student is None:
        return None
    values, units = student
    part = spec["method"]
    for text in student_texts(spec, values, units):
        for index, sealed in enumerate(table.get(table_key(part, text), ())):
            plaintext = unseal(table_secret(part, text), index, sealed)
            if plaintext is None:
                continue
            readings, candidate = unpack(spec, plaintext, text)
            if values_agree(spec, values, candidate, units):
                return _sentence(readings)
    return None


def _sentence(readings):
    # Translators: separates two readings of the student's code, each an edit of the rule ("`a` became `b`
    # (variable)"); either gives every value the student's code returned.
    edits = _("; or ").join(readings)
    # Translators: {edits} describes the edit(s) in code ("`a` became `b` (variable)"), kept as they are.
    return ngettext(
        "It matches none of the known mistakes, but the update rule in the docstring with this edit gives every "
        "value your code returned: {edits}. Change your code back to the rule.",
        "It matches none of the known mistakes, but the update rule in the docstring with any of these edits gives "
        "every value your code returned: {edits}. Change your code back to the rule.",
        len(readings),
    ).format(edits=edits)
