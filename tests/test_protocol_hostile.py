"""Every byte from the sandbox is hostile: does reading a reply stay bounded, and end in a verdict?

Protocol level: hostile frames give a ProtocolError (never another exception), and parsing one costs at
most PARSE_BYTES_PER_BYTE times its bytes (+ PARSE_SLACK_BYTES), measured with tracemalloc at the edge of
what is admitted. End to end: a submission that replaces the worker's reply encoder from inside its own
process gets a verdict for every test, and `check` writes its JSON.
"""

import gc
import io
import json
import struct
import subprocess
import sys
import textwrap
import tracemalloc

import pytest
import torch
from grading_support import ROOT, grade_text, rubric_for, solution_source, validate

from grader.sandbox import protocol


def _frame(value):
    """A reply's bytes with `value` (bytes of JSON) as its value."""
    return b'{"ok":true,"value":' + value + b',"output":""}'


def _decode(body):
    """What the trusted side does with a reply's bytes: parse, then decode its value."""
    return protocol.from_wire(protocol.parse(body)["value"])


HOSTILE_FRAMES = {
    "deep-lists": _frame(b"[" * 100_000 + b"]" * 100_000),
    "deep-objects": _frame(b'{"$dict":{"a":' * 20_000 + b"0" + b"}}" * 20_000),
    "deep-unclosed": _frame(b"[" * 100_000),
    "just-over-the-depth": _frame(b"[" * protocol.MAX_DEPTH + b"]" * protocol.MAX_DEPTH),
    "huge-integer": _frame(b"1" * 5000),
    "integer-over-64-bits": _frame(b"123456789012345678901"),
    "million-empty-lists": _frame(b"[" + b"[]," * 1_000_000 + b"[]]"),  # 3 bytes, 200 once parsed and decoded
    "not-ascii": _frame('"é"'.encode()),
    "latin-1": _frame(b'"\xe9"'),
    "duplicate-keys": b'{"ok":true,"ok":false,"value":0}',
    "duplicate-keys-in-a-tensor": _frame(b'{"$tensor":{"dtype":"bool","dtype":"float32","shape":[],"data":"AQ=="}}'),
    "two-tags": _frame(b'{"$tuple":[],"$dict":{}}'),
    "unknown-tag": _frame(b'{"$pickle":"gASVAAAA"}'),
    "untagged-object": _frame(b'{"a":1}'),
    "empty-object": _frame(b"{}"),
    "object-tag-not-a-string": _frame(b'{"$object":["x"],"repr":"y"}'),
    "object-extra-field": _frame(b'{"$object":"x","repr":"y","code":"z"}'),
    "dict-tag-not-an-object": _frame(b'{"$dict":[1,2]}'),
    "tuple-tag-not-a-list": _frame(b'{"$tuple":{"a":1}}'),
    "bad-base64": _frame(b'{"$tensor":{"dtype":"float32","shape":[1],"data":"!!!!"}}'),
    "base64-not-ascii": _frame(b'{"$tensor":{"dtype":"float32","shape":[1],"data":"\\u00e9AAA"}}'),
    "shape-and-bytes-disagree": _frame(b'{"$tensor":{"dtype":"float64","shape":[3],"data":"AAAAAA=="}}'),
    "shape-of-booleans": _frame(b'{"$tensor":{"dtype":"bool","shape":[true],"data":"AQ=="}}'),
    "shape-not-a-list": _frame(b'{"$tensor":{"dtype":"bool","shape":1,"data":"AQ=="}}'),
    "dtype-a-list": _frame(b'{"$tensor":{"dtype":["float32"],"shape":[],"data":"AAAAAA=="}}'),
    "dtype-object": _frame(b'{"$tensor":{"dtype":"object","shape":[],"data":""}}'),
    "device-a-list": _frame(b'{"$tensor":{"dtype":"bool","shape":[],"device":[1],"data":"AQ=="}}'),
    "tensor-extra-field": _frame(b'{"$tensor":{"dtype":"bool","shape":[],"data":"AQ==","strides":[1]}}'),
    "huge-shape": _frame(b'{"$tensor":{"dtype":"float64","shape":[2147483647,2147483647],"data":""}}'),
    "truncated": _frame(b"[1,2")[:-5],
    "not-json": b"\x00\x01\x02",
    "empty": b"",
    "a-list-not-a-message": b"[]",
    "open-string-full-of-escaped-quotes": b'{"ok":true,"value":"' + b'\\"' * 500_000,
    "nan-as-a-key-value-pair": b'{"ok":true,"value":{"$dict":{"a":NaN}},NaN:1}',
}


@pytest.mark.parametrize("name", HOSTILE_FRAMES)
def test_a_hostile_frame_is_a_protocol_error(name):
    with pytest.raises(protocol.ProtocolError):
        _decode(HOSTILE_FRAMES[name])


@pytest.mark.parametrize(
    "wire",
    [{"$dict": {1: 2}}, {"$dict": {("a",): 2}}, object(), {1, 2}, b"bytes", [[[[{"$tuple": ({"$dict": None},)}]]]]],
    ids=["int-key", "tuple-key", "object", "set", "bytes", "nested-junk"],
)
def test_from_wire_refuses_what_is_not_wire_data(wire):
    with pytest.raises(protocol.ProtocolError):
        protocol.from_wire(wire)


def test_from_wire_bounds_its_own_depth():
    wire = 0
    for _ in range(10_000):  # built in Python, not parsed: from_wire must not recurse 10,000 deep
        wire = [wire]
    with pytest.raises(protocol.ProtocolError, match="nested"):
        protocol.from_wire(wire)


def test_what_an_honest_encoder_writes_is_accepted():
    """NaN and infinities are what `encode` writes for non-finite floats; 19-digit ints are in range."""
    value = (float("nan"), float("inf"), -float("inf"), 2**63 - 1, -(2**63) + 1, 'é " \\ [ {', [[[]]])
    stream = io.BytesIO()
    protocol.send(stream, {"ok": True, "value": protocol.to_wire(value), "output": "tensor([[1., 2.]])\n" * 3})
    stream.seek(0)
    received = protocol.from_wire(protocol.receive(stream)["value"])
    assert received[0] != received[0] and received[1:5] == (float("inf"), -float("inf"), 2**63 - 1, -(2**63) + 1)
    assert received[5:] == ('é " \\ [ {', [[[]]])
    nested = _decode(_frame(b'{"$tuple":[' * 15 + b"]}" * 15))  # 31 deep with the message: within the limit
    for _ in range(14):
        nested = nested[0]
    assert nested == ()


def test_a_frame_over_the_limit_is_refused_before_its_bytes_are_read():
    stream = io.BytesIO(struct.pack(">Q", 60 * 1024 * 1024) + b"[0," * 10)
    with pytest.raises(protocol.ProtocolError, match="over the"):
        protocol.receive(stream)
    assert stream.tell() == 8  # nothing but the header was read
    stream = io.BytesIO(struct.pack(">Q", 100) + b" " * 100)
    assert protocol.receive_bytes(stream, limit=100) == b" " * 100  # a longer limit, for a reply known ahead


# ------------------------------------------------------------------------------------------- memory


def _honest_batch(calls):
    """A batch reply as dense as honest ones get: run_steps answers of 0-d float32 tensors, three keys."""
    step = {
        "params": {key: torch.tensor(1.5) for key in "Wbs"},
        "grads_intact": {key: True for key in "Wbs"},
        "aliased": [],
        "t": 2,
    }
    answer = {"ok": True, "value": protocol.Encoded(protocol.to_wire([step] * 3))}
    return protocol.encode({"ok": True, "value": protocol.to_wire([answer] * calls), "output": ""})


# Each builds the value of a frame from a count: the densest frames of each kind of value.
FAMILIES = {
    "zeros": lambda count: b"[" + b",".join([b"0"] * count) + b"]",
    "floats": lambda count: b"[" + b",".join([b"1e1"] * count) + b"]",
    "empty-lists": lambda count: b"[" + b",".join([b"[]"] * count) + b"]",
    "lists-of-one": lambda count: b"[" + b",".join([b"[1e1]"] * count) + b"]",
    "tuples": lambda count: b"[" + b",".join([b'{"$tuple":[]}'] * count) + b"]",
    "dicts": lambda count: b"[" + b",".join([b'{"$dict":{}}'] * count) + b"]",
    "distinct-keys": lambda count: b'{"$dict":{' + b",".join(b'"%x":0' % i for i in range(count)) + b"}}",
    "dicts-of-lists": lambda count: b"[" + b",".join(b'{"$dict":{"%x":[]}}' % i for i in range(count)) + b"]",
    "distinct-strings": lambda count: b"[" + b",".join(b'"%x"' % i for i in range(count)) + b"]",
    "objects": lambda count: b"[" + b",".join([b'{"$object":"ab"}'] * count) + b"]",
    "tiny-tensors": lambda count: (
        b"[" + b",".join([b'{"$tensor":{"dtype":"bool","shape":[],"data":"AQ=="}}'] * count) + b"]"
    ),
    "empty-tensors": lambda count: (
        b"[" + b",".join([b'{"$tensor":{"dtype":"bool","shape":[0],"data":""}}'] * count) + b"]"
    ),
    "long-string": lambda count: b'["' + b"a" * count + b'"]',
    "wide-string": lambda count: b'["\\ud83d\\ude00' + b"a" * count + b'"]',  # one emoji: 4 bytes a character
    "big-tensor": lambda count: (
        b'{"$tensor":{"dtype":"float64","shape":[%d],"data":"' % (3 * count // 4) + b"AAAA" * (count // 4) + b'"}}'
    ),
}
TARGET_BYTES = 1024 * 1024


def _admitted(body):
    try:
        protocol._admit(body)
    except protocol.ProtocolError:
        return False
    return True


def _densest(build):
    """The frame of the largest count that is admitted and at most TARGET_BYTES long."""

    def fits(count):
        body = _frame(build(count))
        return len(body) <= TARGET_BYTES and _admitted(body)

    low, high = 1, 2
    while fits(high):
        low, high = high, high * 2
    while high - low > max(1, low // 32):  # within 3% of the edge
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return _frame(build(low))


def _parse_peak(body):
    """Peak bytes allocated while parsing and decoding `body` (beyond the frame itself)."""
    gc.collect()
    tracemalloc.start()
    try:
        decoded = _decode(body)
        del decoded
    except protocol.ProtocolError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _bound(body):
    return protocol.PARSE_BYTES_PER_BYTE * len(body) + protocol.PARSE_SLACK_BYTES


@pytest.mark.attacks
@pytest.mark.parametrize("family", FAMILIES)
def test_parsing_the_densest_admitted_frame_stays_within_the_bound(family):
    body = _densest(FAMILIES[family])
    peak = _parse_peak(body)
    assert peak <= _bound(body), (family, len(body), peak, peak / len(body))
    if len(body) >= TARGET_BYTES // 2:  # a frame the slack cannot hide: the multiple itself holds
        assert peak - protocol.PARSE_SLACK_BYTES <= protocol.PARSE_BYTES_PER_BYTE * len(body)


@pytest.mark.parametrize(
    "name", ["deep-lists", "deep-objects", "million-empty-lists", "open-string-full-of-escaped-quotes"]
)
def test_a_refused_frame_costs_no_more_than_the_bound(name):
    body = HOSTILE_FRAMES[name]
    assert _parse_peak(body) <= _bound(body)


def test_an_honest_batch_of_the_densest_kind_is_admitted_far_beyond_its_real_size():
    """The largest honest reply measured is 40 KB; one 60 times as long, as dense as any, still parses."""
    body = _honest_batch(calls=2000)
    assert len(body) > 2_000_000
    answers = _decode(body)
    assert len(answers) == 2000 and answers[-1]["value"][2]["params"]["s"].tensor.item() == 1.5


@pytest.mark.attacks
def test_many_tiny_tensors_stay_within_the_bound_counting_torch_own_memory(tmp_path):
    """tracemalloc does not see torch's own objects (about 0.5 KB a tensor): the process's peak does."""
    body = _densest(FAMILIES["tiny-tensors"])
    (tmp_path / "frame.json").write_bytes(body)
    warm_up = _frame(b'[{"$tensor":{"dtype":"bool","shape":[],"data":"AQ=="}}]')
    script = textwrap.dedent("""
        import sys
        from grader.sandbox import protocol

        def status(field):
            with open("/proc/self/status") as file:
                return next(int(line.split()[1]) * 1024 for line in file if line.startswith(field + ":"))

        body, warm_up = (open(path, "rb").read() for path in sys.argv[1:])
        protocol.from_wire(protocol.parse(warm_up)["value"])  # torch's first tensor, before measuring
        try:
            with open("/proc/self/clear_refs", "w") as file:
                file.write("5")  # the peak resident size (VmHWM) starts again from here
        except OSError:
            print("unmeasurable")
            sys.exit()
        before = status("VmRSS")
        value = protocol.from_wire(protocol.parse(body)["value"])
        print(len(value), status("VmHWM") - before)
    """)
    (tmp_path / "warm_up.json").write_bytes(warm_up)
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "frame.json"), str(tmp_path / "warm_up.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    if result.stdout.strip() == "unmeasurable":
        pytest.skip("this kernel does not let a process reset its peak resident size (/proc/self/clear_refs)")
    count, grown = map(int, result.stdout.split())
    assert count > 10_000 and grown > 0
    assert grown <= _bound(body), (len(body), grown, grown / len(body))


# ------------------------------------------------------------------------------------------ end to end

# Appended to a correct submission: from inside its own process, it replaces the worker's reply encoder
# (the grader's modules are gone from sys.modules, but the frames that loaded the submission hold them),
# lets the load report through, and answers every call with `_body(message, n)`.
ENCODER_PATCH = """
import struct as _struct, sys as _sys


def _find_protocol():
    frame = _sys._getframe()
    while frame is not None:
        found = frame.f_globals.get("protocol")
        if found is not None and hasattr(found, "send"):
            return found
        frame = frame.f_back
    raise LookupError("no protocol module in reach")


_protocol = _find_protocol()
_original_send = _protocol.send
_replies = [0]


def _hostile_send(stream, message):
    _replies[0] += 1
    if _replies[0] == 1:  # the load report, as it is
        return _original_send(stream, message)
    body = _body(message, _replies[0])
    stream.write(_struct.pack(">Q", len(body)) + body)
    stream.flush()


_protocol.send = _hostile_send
"""

REPLY_BODIES = {
    "deep": """
def _body(message, count):
    return b'{"ok":true,"value":' + b"[" * 300_000 + b"]" * 300_000 + b',"output":""}'
""",
    "sixty-megabytes-of-zeros": """
def _body(message, count):
    return b'{"ok":true,"value":[' + b"0," * 30_000_000 + b'0],"output":""}'
""",
    "a-million-empty-lists": """
def _body(message, count):
    return b'{"ok":true,"value":[' + b"[]," * 1_000_000 + b'[]],"output":""}'
""",
    "bad-tensors": """
def _body(message, count):
    return b'{"ok":true,"value":{"$tensor":{"dtype":"float32","shape":[1],"data":"!!!!"}},"output":""}'
""",
    "no-value": """
def _body(message, count):
    return b'{"ok":true,"output":"[... 99999999999999999999999 more characters of output dropped]"}'
""",
    # parsable and admitted, but not what the checks read: a dict for a list, objects for tensors...
    "wrong-kinds": """
def _body(message, count):
    value = {"$dict": {"result": {"$object": "x", "repr": "y"}, "mutated": 7, "params": [],
                       "points": {"$tensor": {"dtype": "int64", "shape": [], "data": "AAAAAAAAAAA="}},
                       "returned_type": [1], "x_init_changed": [1]}}
    if count % 2:
        value = [{"$dict": {"params": {"$object": "x"}, "grads_intact": 5, "aliased": "no", "t": "one"}}]
    return _protocol.encode({"ok": True, "value": value, "output": ""})
""",
    # three MB that are admitted (close to the budget), then every kind above in turn
    "big-then-everything": """
def _body(message, count):
    if count <= 3:
        return (b'{"ok":true,"value":[' + b",".join(b'{"$dict":{"%x":[]}}' % i for i in range(150_000))
                + b'],"output":""}')
    return (b'{"ok":true,"value":' + b"[" * 300_000 + b"]" * 300_000 + b',"output":""}',
            b'{"ok":true,"value":{"$tensor":{"dtype":"float32","shape":[1],"data":"!!!!"}},"output":""}',
            b'{"ok":true,"value":{"$dict":{"result":[],"points":{"$object":"x"}}},"output":""}')[count % 3]
""",
}


def _hostile_source(name):
    return solution_source() + ENCODER_PATCH + REPLY_BODIES[name]


@pytest.mark.attacks
@pytest.mark.parametrize("name", REPLY_BODIES)
def test_a_submission_that_rewrites_its_replies_gets_a_verdict_for_every_test(name, zygote, tmp_path):
    report = grade_text(_hostile_source(name), tmp_path, zygote, "adam", "trajectory")
    validate(report)
    assert len(report.tests) == len(rubric_for("adam", "trajectory").tests) and report.score == 0, [
        (test.test, test.output[:200]) for test in report.tests
    ]
    for test in report.tests:
        assert "Traceback" not in test.output and test.output.strip(), (test.test, test.output[:300])
    if name == "wrong-kinds":  # parsed, but what came back is not what a check can read
        assert any(
            "sent back malformed data" in test.output or "instead of its results" in test.output
            for test in report.tests
        )
    else:  # refused while being read: the process is killed, the part lost
        assert any("malformed" in test.output for test in report.tests)


def test_the_grader_still_gives_full_marks_after_them(zygote, tmp_path):
    report = grade_text(solution_source(), tmp_path, zygote, "adam", "trajectory")
    assert report.score == report.max_score


CHECK_IN_PROCESS = """
import resource, sys
from grader import cli
code = cli.main(["check", sys.argv[1], "--json", sys.argv[2], "--rubric", sys.argv[3]])
print("exit", code, "maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _check_peak(source, folder):
    """`check` (the trusted process, run here in a child of its own) on `source`: exit code, its JSON,
    the trusted process's peak resident memory, stderr."""
    folder.mkdir()
    path = folder / "optimizers.py"
    path.write_text(source, encoding="utf-8")
    shipped = json.loads((ROOT / "grader" / "judge" / "rubric.json").read_text(encoding="utf-8"))
    shipped["parts"] = [part for part in shipped["parts"] if part["tag"] in ("adam", "trajectory")]
    (folder / "rubric.json").write_text(json.dumps(shipped), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", CHECK_IN_PROCESS, str(path), str(folder / "result.json"), str(folder / "rubric.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    words = result.stdout.split()
    assert "exit" in words, result.stderr[-3000:]
    return (
        int(words[words.index("exit") + 1]),
        json.loads((folder / "result.json").read_text()),
        int(words[words.index("maxrss") + 1]),
        result.stderr,
    )


@pytest.mark.attacks
def test_check_writes_its_json_and_the_trusted_side_stays_small(tmp_path):
    """Sixty megabytes of numbers once cost the trusted process 3 GB; now the frame is refused at its
    header, and what is admitted costs at most the parse budget."""
    code, honest, honest_peak, _ = _check_peak(solution_source(), tmp_path / "honest")
    assert code == 0 and honest["score"] == honest["max_score"]
    hostile = (
        solution_source()
        + ENCODER_PATCH
        + REPLY_BODIES["big-then-everything"].replace(
            "if count <= 3:",
            "if count == 3:\n        return b'{\"ok\":true,\"value\":[' + b'0,' * 30_000_000 + b'0]}'\n"
            "    if count == 2:",
        )
    )
    code, result, hostile_peak, stderr = _check_peak(hostile, tmp_path / "hostile")
    assert code == 1 and result["score"] == 0 and len(result["tests"]) == len(honest["tests"])
    assert "Traceback" not in stderr
    bound = protocol.PARSE_BYTES_PER_BYTE * protocol.MAX_MESSAGE_BYTES + protocol.PARSE_SLACK_BYTES
    assert hostile_peak <= honest_peak + bound, (honest_peak, hostile_peak)
