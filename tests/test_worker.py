"""Does the worker protocol refuse malformed data, and does the sandbox survive hostile student code?"""

import io
import os
import socket
import struct
import textwrap
import threading

import pytest
import torch

from grader.sandbox import protocol
from grader.sandbox.client import CallFailed, Sandbox, WorkerDied
from grader.sandbox.protocol import Limits
from grader.untrusted.confine import CappedOutput


def _roundtrip(value):
    stream = io.BytesIO()
    protocol.send(stream, {"value": protocol.to_wire(value)})
    stream.seek(0)
    return protocol.from_wire(protocol.receive(stream)["value"])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool, torch.bfloat16])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 1, 3)])
def test_tensors_cross_bit_for_bit(dtype, shape):
    value = (torch.randn(shape) * 1e3).to(dtype)
    received = _roundtrip(value)
    assert isinstance(received, protocol.WireTensor) and received.type_name == "Tensor"
    assert received.tensor.dtype == dtype and torch.equal(received.tensor, value)


def test_plain_values_tuples_and_unknown_objects():
    received = _roundtrip((1, 2.5, float("nan"), None, "s", [True], {"k": 3}, object()))
    assert received[:2] == (1, 2.5) and received[2] != received[2]
    assert received[3:7] == (None, "s", [True], {"k": 3})
    assert isinstance(received[7], protocol.WireObject) and received[7].type_name == "object"


class _Lying(torch.Tensor):
    def __eq__(self, other):
        return True


def test_a_tensor_subclass_arrives_as_data_with_its_type_named():
    received = _roundtrip(torch.ones(2).as_subclass(_Lying))
    assert received.type_name == "_Lying"
    assert type(received.tensor) is torch.Tensor


@pytest.mark.parametrize(
    "tensor, message",
    [
        ({"dtype": "object", "shape": [1], "data": ""}, "not allowed"),
        ({"dtype": "float32", "shape": [2], "data": "AAAAAA=="}, "cannot have 4 bytes"),
        ({"dtype": "float32", "shape": [-1], "data": ""}, "bad tensor shape"),
        ({"dtype": "float32", "shape": [1] * 9, "data": "AAAAAA=="}, "bad tensor shape"),
    ],
    ids=["dtype", "byte-count", "negative-side", "too-many-dims"],
)
def test_malformed_tensors_are_refused(tensor, message):
    with pytest.raises(protocol.ProtocolError, match=message):
        protocol.from_wire({"$tensor": tensor})


def test_oversized_and_non_json_messages_are_refused():
    with pytest.raises(protocol.ProtocolError, match="over the"):
        protocol.receive(io.BytesIO(struct.pack(">Q", protocol.MAX_MESSAGE_BYTES + 1)))
    with pytest.raises(protocol.ProtocolError, match="not JSON"):
        protocol.receive(io.BytesIO(struct.pack(">Q", 3) + b"{x]"))
    with pytest.raises(EOFError):
        protocol.receive(io.BytesIO(struct.pack(">Q", 10) + b"{}"))


def test_capped_output_keeps_the_start_and_counts_the_rest():
    output = CappedOutput(limit=10)
    output.write("0123456789abcdef")
    output.write("more")
    assert output.take() == "0123456789\n[... 10 more characters of output dropped]"
    assert output.take() == ""


HOSTILE = """
import os, sys, time, torch

class A:
    def __init__(self, init_lr, model, *hyper):
        pass
    def ok(self, x, *rest):
        return x * 2
    def hard_exit(self, *rest):
        os._exit(3)
    def soft_exit(self, *rest):
        sys.exit(0)
    def interrupt(self, *rest):
        raise KeyboardInterrupt
    def spin(self, *rest):
        while True:
            pass
    def stubborn_spin(self, *rest):
        while True:
            try:
                time.sleep(10)
            except BaseException:
                pass
    def sleep(self, *rest):
        time.sleep(1000)  # no CPU time: the wall-clock bound stops it in the sandbox, which goes on
    def nap(self, x, *rest):
        time.sleep(1.5)  # waiting (for a core, a lock, a sleep) uses no CPU time
        return x
    def hog(self, *rest):
        return torch.ones(2**31)
    def flood(self, *rest):
        for _ in range(100_000):
            print("spam " * 20)
        return 1
    def escape(self, *rest):
        import reference
    def who(self, *rest):
        return os.getuid(), os.getcwd()
    def write_outside(self, x, path, *rest):
        with open(path, "w") as file:
            file.write("fake")

sys.exit("exit at import")
"""


@pytest.fixture(scope="module")
def hostile(zygote):
    with Sandbox(
        zygote,
        [{"label": "h.py", "filename": "<submission h.py>", "source": HOSTILE}],
        limits=Limits(memory_bytes=1024**3),
    ) as sandbox:
        yield sandbox


def _call(sandbox, method, seconds=2.0, arguments=(torch.ones(2),)):  # noqa: B008 -- read, never written
    return sandbox.call(
        "per_key",
        seconds=seconds,
        class_name="A",
        method=method,
        hyper=[],
        init_lr=0.1,
        arguments=list(arguments),
        device="cpu",
    )


def test_exit_at_import_is_a_load_error_not_the_end(hostile):
    # `sys.exit(...)` at top level is a bare expression: the loader does not run it at all.
    assert "A" in hostile.load_report["names"] and hostile.load_report["skipped"] == 1


@pytest.mark.parametrize(
    "method, error, kind",
    [
        ("soft_exit", CallFailed, "SystemExit"),
        ("interrupt", CallFailed, "KeyboardInterrupt"),
        ("spin", CallFailed, "Timeout"),
        ("hog", CallFailed, "RuntimeError"),
        ("escape", CallFailed, "ImportError"),
        ("hard_exit", WorkerDied, "Died"),
        ("stubborn_spin", WorkerDied, "Timeout"),
        ("sleep", CallFailed, "Timeout"),
    ],
)
def test_a_hostile_call_costs_that_call_only(hostile, method, error, kind):
    with pytest.raises(error) as raised:
        _call(hostile, method, seconds=1.0)
    assert raised.value.kind == kind
    assert torch.equal(_call(hostile, "ok")["result"].tensor, torch.full((2,), 2.0))


def test_output_is_captured_and_capped(hostile):
    assert _call(hostile, "flood", seconds=20)["result"] == 1  # the flood arrives capped, not in full


def test_the_grader_packages_cannot_be_imported(hostile):
    with pytest.raises(CallFailed, match="not available to submissions"):
        _call(hostile, "escape")


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs the grader to run as root")
def test_as_root_student_code_runs_unprivileged_and_cannot_write_outside(hostile, tmp_path):
    uid, cwd = _call(hostile, "who")["result"]
    full = hostile.isolation["level"] == "full"
    assert uid != 0 and (cwd == "/sandbox/work" if full else cwd.startswith(str(hostile.zygote.scratch)))
    tmp_path.chmod(0o755)
    target = tmp_path / "results.json"
    with pytest.raises(CallFailed, match=r"PermissionError|FileNotFoundError"):  # not there at all, when full
        _call(hostile, "write_outside", arguments=(torch.ones(2), str(target)))
    assert not target.exists()


def test_load_errors_name_the_file_and_line(zygote):
    source = "import torch\nx = undefined_name\ndef f(:\n"
    notebook = [
        {"label": "nb.ipynb, code cell 1", "filename": "<submission nb cell 1>", "source": "y = 1\nz = y / 0\n"},
        {"label": "nb.ipynb, code cell 2", "filename": "<submission nb cell 2>", "source": "def g(:\n"},
        {"label": "nb.ipynb, code cell 3", "filename": "<submission nb cell 3>", "source": "def ok():\n    return 1\n"},
    ]
    with Sandbox(zygote, [{"label": "s.py", "filename": "<submission s.py>", "source": source}]) as broken:
        assert [(e["where"], e["kind"]) for e in broken.load_report["errors"]] == [("s.py, line 3", "SyntaxError")]
    with Sandbox(zygote, notebook) as cells:
        errors = [(e["where"], e["kind"]) for e in cells.load_report["errors"]]
        assert errors == [
            ("nb.ipynb, code cell 1, line 2", "ZeroDivisionError"),
            ("nb.ipynb, code cell 2, line 1", "SyntaxError"),
        ]
        assert {"y", "ok"} <= set(cells.load_report["names"])


def test_a_submission_that_dies_while_loading_gets_a_verdict(zygote):
    with pytest.raises(WorkerDied, match="while loading"):
        Sandbox(
            zygote, [{"label": "d.py", "filename": "<submission d.py>", "source": "import os\ncode = os._exit(1)\n"}]
        )


def test_a_restarted_worker_loads_the_submission_again(zygote):
    source = (
        "import os\nclass A:\n    def __init__(self, *a):\n        pass\n    def die(self, *a):\n        os._exit(1)\n"
        "    def ok(self, x, *a):\n        return x + 1\n"
    )
    with Sandbox(zygote, [{"label": "r.py", "filename": "<submission r.py>", "source": source}]) as sandbox:
        with pytest.raises(WorkerDied):
            _call(sandbox, "die")
        assert torch.equal(_call(sandbox, "ok")["result"].tensor, torch.full((2,), 2.0))
        assert sandbox.restarts == 1


def test_the_code_travels_on_the_sandbox_own_socket(zygote):
    """The submission reaches the child on its socket, after the fork: the control message holds no code."""
    channel, pids, isolation = zygote.fork({})
    try:
        stream = channel.makefile("rwb", buffering=0)
        protocol.send(stream, {"chunks": [{"label": "a", "filename": "<submission a>", "source": "v = 7\n"}]})
        reply = protocol.receive(stream)
        assert reply["ok"] and "v" in reply["value"]["names"]
        assert pids[0] and pids[1] and isolation["level"] in ("full", "reduced")
    finally:
        channel.close()


def test_student_code_can_print_tensors_and_import_what_the_installation_has(zygote):
    """Debug prints are common; as `nobody`, the child must still read the Python installation."""
    source = (
        "import sqlite3, secrets, fractions\n"
        "class A:\n    def __init__(self, *a):\n        pass\n"
        "    def show(self, x, *a):\n        print('x is', x, x.double())\n        return x\n"
    )
    with Sandbox(zygote, [{"label": "p.py", "filename": "<submission p.py>", "source": source}]) as sandbox:
        assert sandbox.load_report["errors"] == [] and sandbox.load_report["notes"] == []
        assert torch.equal(_call(sandbox, "show")["result"].tensor, torch.ones(2))
        assert "x is tensor([1., 1.])" in sandbox.output_sample


def test_a_call_is_limited_by_the_cpu_time_it_uses_not_by_waiting(hostile):
    """On a busy machine a correct call waits for a core: only CPU time counts against its limit."""
    assert torch.equal(_call(hostile, "nap", seconds=1.0)["result"].tensor, torch.ones(2))


def test_a_batch_stops_at_its_first_call_that_runs_out_of_time(hostile):
    """A part that loops costs one call's limit, not one per call of the batch."""

    def call(method):
        return (
            "per_key",
            {
                "class_name": "A",
                "method": method,
                "hyper": [],
                "init_lr": 0.1,
                "arguments": [torch.ones(2)],
                "device": "cpu",
            },
        )

    answers = hostile.call_many(
        Sandbox.prepare([call("ok"), call("spin"), call("spin"), call("spin"), call("ok")]), seconds=1.0
    )
    assert [answer["ok"] for answer in answers] == [True, False, False, False, False]
    assert [answer["error"]["kind"] for answer in answers[1:]] == ["Timeout", "Skipped", "Skipped", "Skipped"]


# A method that rewrites the worker's next reply from inside the student's process: the grader's modules
# are gone from sys.modules, but the frames that called the method hold the wire module.
GARBLING = """
import struct, sys

BODIES = [
    b'{"ok":true,"value":' + b"[" * 100000 + b"]" * 100000 + b"}",
    b'{"ok":true,"value":"\\xc3\\xa9"}',
    b'{"ok":true,"ok":false,"value":1}',
    b'{"ok":true,"value":' + b"9" * 5000 + b"}",
    b'{"ok":true,"output":"[... 123456789012345678901234567890 more characters of output dropped]"}',
    b'{"ok":true,"value":{"$tensor":{"dtype":["float32"],"shape":[],"data":"AAAAAA=="}}}',
    b'{"ok":true,"value":{"$tensor":{"dtype":"float32","shape":[1],"data":"@@@@"}}}',
    b'{"ok":true,"value":[{"$dict":{"ok":"yes"}}]}',
    b'{"ok":true,"value":{"$dict":{"a":1}}}',
]


class A:
    def __init__(self, init_lr, model, *hyper):
        self.body = BODIES[int(hyper[0])] if hyper else None

    def ok(self, x, *rest):
        return x + 1

    def garble(self, x, *rest):
        frame = sys._getframe()
        while "protocol" not in frame.f_globals:
            frame = frame.f_back
        protocol, body = frame.f_globals["protocol"], self.body

        def send(stream, message):
            stream.write(struct.pack(">Q", len(body)) + body)
            stream.flush()

        protocol.send = send
        return x
"""
GARBLED = [
    "deep",
    "not-ascii",
    "duplicate-key",
    "huge-int",
    "no-value-and-a-long-count",
    "unhashable-dtype",
    "bad-base64",
    "bad-answers",
    "not-a-batch",
]


@pytest.fixture(scope="module")
def garbling(zygote):
    with Sandbox(zygote, [{"label": "g.py", "filename": "<submission g.py>", "source": GARBLING}]) as sandbox:
        yield sandbox


def _garbled(sandbox, index, batch):
    arguments = {
        "class_name": "A",
        "method": "garble",
        "hyper": [index],
        "init_lr": 0.1,
        "arguments": [torch.ones(2)],
        "device": "cpu",
    }
    if batch:
        return sandbox.call_many(Sandbox.prepare([("per_key", arguments)]))
    return sandbox.call("per_key", **arguments)


@pytest.mark.parametrize(
    "index, batch",
    [
        pytest.param(index, batch, id=f"{name}-{'call_many' if batch else 'call'}")
        for index, name in enumerate(GARBLED)
        for batch in (False, True)
        if batch or name not in ("bad-answers", "not-a-batch")
    ],
)  # those two are wrong only as a batch's answers
def test_a_reply_rewritten_from_inside_is_a_protocol_error_and_costs_that_call_only(garbling, index, batch):
    restarts = garbling.restarts
    with pytest.raises(WorkerDied) as raised:
        _garbled(garbling, index, batch)
    assert raised.value.kind == "ProtocolError" and "malformed" in raised.value.message
    assert torch.equal(_call(garbling, "ok")["result"].tensor, torch.full((2,), 2.0))
    assert garbling.restarts == restarts + 1  # the garbling process was killed, a fresh one answered


def test_a_malformed_load_report_is_a_load_failure(zygote):
    source = GARBLING + textwrap.dedent("""
        def _patch():
            frame = sys._getframe()
            while "protocol" not in frame.f_globals:
                frame = frame.f_back
            protocol = frame.f_globals["protocol"]
            send = protocol.send
            protocol.send = lambda stream, message: send(stream, dict(message, value={"names": "A", "errors": [3]}))

        _patched = _patch()
    """)
    with pytest.raises(WorkerDied, match="malformed reply while loading"):
        Sandbox(zygote, [{"label": "l.py", "filename": "<submission l.py>", "source": source}])


def test_a_message_larger_than_the_socket_buffer_arrives_whole():
    """A socket with a timeout takes only what fits: send() must write the rest (it cut frames short)."""
    ours, theirs = socket.socketpair()
    ours.settimeout(30.0)
    writer, reader = ours.makefile("rwb", buffering=0), theirs.makefile("rwb", buffering=0)
    received = {}
    thread = threading.Thread(target=lambda: received.setdefault("message", protocol.receive(reader)))
    thread.start()
    protocol.send(writer, {"chunks": "x" * 3_000_000})
    thread.join(60)
    assert received["message"]["chunks"] == "x" * 3_000_000
