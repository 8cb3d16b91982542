"""The wire format between the trusted grader and the untrusted worker: framed JSON, never pickle.

A message is an 8-byte big-endian length, then that many bytes of ASCII JSON. Tensors and numpy arrays
travel as {"$tensor": {...}} with their raw bytes in base64; tuples as {"$tuple": [...]}; any other
object as {"$object": type name, "repr": a short repr}, so nothing the worker sends can run code here.
This module imports only the standard library and torch, so the sandboxed worker (grader.untrusted) can load it.

Every byte from the sandbox is hostile, so reading a message is bounded, and every way it can go wrong
is a ProtocolError (never another exception):
- a frame holds at most MAX_MESSAGE_BYTES (4 MiB; the largest honest reply measured is 40 KB, a
  recorded batch of 30 calls in `batch`; in `check` 9 KB), and only ASCII (what `encode` writes);
- before json.loads, a pass over the bytes at C speed (one regex that blanks strings, bytes.count and
  bytes.replace) measures the frame's skeleton: its nesting depth, at most MAX_DEPTH (honest: 9), and
  its containers and values. A frame is refused unless
      8·n + 192·containers + 80·(commas + colons)  <=  48·n + 1 MiB        (n = the frame's bytes)
  The weights are what each kind costs at most once parsed *and* decoded, torch's own objects
  included: per byte the decoded text and strings, base64 turned into bytes; per container a list or
  dict, its decoded copy and a tensor's share; per other value its object and its slots. The densest
  honest frame weighs 29·n, so the bound has room to spare for any honest reply;
- so parse() then from_wire() allocate at most 48 × the frame's bytes + 1 MiB, beyond the frame itself
  (tests/test_protocol_hostile.py measures it with tracemalloc on hostile frames at the edge of what
  is admitted: millions of zeros, empty lists, dicts, long strings, many tiny tensors, deep nesting;
  the worst seen is 33·n, dicts of lists; many tiny tensors, torch's own memory counted through the
  peak resident size, 33·n too). At 4 MiB that is at most 193 MiB, for a reply that is then refused
  or judged; honest replies cost 8-22·n;
- integers longer than 20 digits, duplicate keys, unknown or mixed tags, bad base64, a tensor whose
  shape and bytes disagree are refused. NaN and Infinity are accepted: `encode` writes them for a
  non-finite Python float, which a wrong but honest submission may return.
"""

import base64
import binascii
import json
import re
import struct
from dataclasses import dataclass

import torch

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: A call's wall-clock bound, this many times its CPU bound: a correct call on a busy machine waits for a
#: core without using CPU time, and code that sleeps uses none at all. The worker stops a call that passes
#: it (so that a batch of calls is not held by one that waits); the grader kills a worker that does not.
WALL_FACTOR = 4.0
MAX_DEPTH = 32  # containers inside containers; honest messages reach 9
MAX_INT_DIGITS = 20  # the encoder sends ints below 2**63 (a longer one as a float)
# The parse budget (see the module's docstring): what a frame of n bytes may cost once parsed and decoded.
PARSE_BYTES_PER_BYTE = 48
PARSE_SLACK_BYTES = 1024 * 1024
_COST_PER_BYTE, _COST_PER_CONTAINER, _COST_PER_VALUE = 8, 192, 80
_HEADER = struct.Struct(">Q")

DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}
_DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}
_ITEMSIZE = {dtype: torch.empty((), dtype=dtype).element_size() for dtype in DTYPES.values()}


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Memory is on top of what the warm interpreter already maps."""

    cpu_seconds: int = 120
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 16 * 1024**2
    open_files: int = 256
    processes: int = 64
    output_bytes: int = 64 * 1024
    disk_bytes: int = 64 * 1024**2  # the sandbox's whole writable space: work folder, /tmp, /dev/shm
    disk_files: int = 4096


class ProtocolError(Exception):
    """A message that is not well formed: the worker is broken or hostile."""


class WireTensor:
    """A tensor as received: its values on the CPU, plus where it lived and what it was in the worker."""

    __slots__ = ("device", "tensor", "type_name")

    def __init__(self, tensor, device, type_name):
        self.tensor = tensor
        self.device = device
        self.type_name = type_name

    def __repr__(self):
        return f"WireTensor({self.tensor!r}, device={self.device!r}, type_name={self.type_name!r})"


class WireObject:
    """Something the worker could not send as data: only its type name and a short repr arrive."""

    __slots__ = ("text", "type_name")

    def __init__(self, type_name, text):
        self.type_name = type_name
        self.text = text

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"


# Dtypes whose numpy form has the very same bytes (numpy has no bfloat16): the quicker way to them.
_NUMPY_BYTES = {torch.float16, torch.float32, torch.float64, torch.int32, torch.int64, torch.bool}


def _encode_tensor(value, type_name):
    tensor = value.detach().to("cpu").contiguous()
    name = _DTYPE_NAMES.get(tensor.dtype)
    if name is None:
        return {"$object": type_name, "repr": f"tensor of unsupported dtype {tensor.dtype}"}
    if tensor.dtype in _NUMPY_BYTES:
        data = tensor.numpy().tobytes()
    else:
        data = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
    return {
        "$tensor": {
            "dtype": name,
            "shape": list(tensor.shape),
            "device": str(value.device),
            "type": type_name,
            "data": base64.b64encode(data).decode("ascii"),
        }
    }


class Encoded:
    """Wire data already made by to_wire, passed through as it is (so nothing is encoded twice)."""

    __slots__ = ("wire",)

    def __init__(self, wire):
        self.wire = wire


def to_wire(value, depth=0):
    """Plain JSON-able data for `value`; unknown objects become {"$object": ...} (never an error)."""
    kind = type(value)
    if depth <= 20:  # the common exact types first: a reply holds thousands of values
        if kind is float or kind is bool or kind is str or value is None:
            return value
        if kind is torch.Tensor:
            return _encode_tensor(value, "Tensor")
        if kind is dict:
            for key in value:
                if type(key) is not str:
                    break
            else:
                return {"$dict": {key: to_wire(item, depth + 1) for key, item in value.items()}}
    if isinstance(value, Encoded):
        return value.wire
    if depth > 20:
        return {"$object": type(value).__name__, "repr": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, type(value).__name__)
    type_name = type(value).__name__
    if type(value).__module__ == "numpy" and hasattr(value, "dtype"):  # ndarray or numpy scalar
        try:
            return _encode_tensor(torch.from_numpy(__import__("numpy").array(value)), f"numpy.{type_name}")
        except (TypeError, ValueError, RuntimeError):
            return {"$object": f"numpy.{type_name}", "repr": _short_repr(value)}
    if isinstance(value, tuple):
        return {"$tuple": [to_wire(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return [to_wire(item, depth + 1) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"$dict": {key: to_wire(item, depth + 1) for key, item in value.items()}}
    return {"$object": type_name, "repr": _short_repr(value)}


def _short_repr(value, limit=200):
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 -- a hostile __repr__ must not break the worker's reply
        text = f"<repr raised {type(error).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def from_wire(data, depth=0):
    """The Python value for wire data: WireTensor, WireObject, tuple, list, dict, or a plain value.

    Raises ProtocolError, and nothing else, for anything that is not wire data.
    """
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if depth >= MAX_DEPTH:
        raise ProtocolError(f"wire data nested more than {MAX_DEPTH} deep")
    if isinstance(data, list):
        return [from_wire(item, depth + 1) for item in data]
    if not isinstance(data, dict):
        raise ProtocolError(f"unexpected value on the wire: {type(data).__name__}")
    if len(data) == 1:
        ((tag, body),) = data.items()
        if tag == "$tensor":
            return _decode_tensor(body)
        if tag == "$tuple":
            return tuple(from_wire(item, depth + 1) for item in _expect(body, list, "$tuple"))
        if tag == "$dict":
            body = _expect(body, dict, "$dict")
            if not all(isinstance(key, str) for key in body):
                raise ProtocolError("$dict keys must be strings")
            return {key: from_wire(item, depth + 1) for key, item in body.items()}
    if "$object" in data and set(data) <= {"$object", "repr"}:
        type_name = _expect(data["$object"], str, "$object")
        return WireObject(type_name[:200], _expect(data.get("repr", ""), str, "repr")[:200])
    raise ProtocolError(f"unknown wire tag in {[str(key)[:20] for key in list(data)[:3]]}")


def _expect(value, kind, what):
    if not isinstance(value, kind):
        raise ProtocolError(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    return value


_TENSOR_FIELDS = {"dtype", "shape", "device", "type", "data"}


def _decode_tensor(spec):
    spec = _expect(spec, dict, "$tensor")
    if not spec.keys() <= _TENSOR_FIELDS:
        raise ProtocolError(
            f"unknown tensor fields {sorted(str(key)[:20] for key in spec.keys() - _TENSOR_FIELDS)[:3]}"
        )
    name = _expect(spec.get("dtype"), str, "dtype")
    dtype = DTYPES.get(name)
    if dtype is None:
        raise ProtocolError(f"tensor dtype {name[:40]!r} is not allowed")
    shape = _expect(spec.get("shape"), list, "shape")
    if len(shape) > 8 or not all(type(side) is int and 0 <= side < 2**31 for side in shape):
        raise ProtocolError(f"bad tensor shape {shape[:9]!r}"[:200])
    device = _expect(spec.get("device", "?"), str, "device")
    type_name = _expect(spec.get("type", "?"), str, "type")
    try:
        raw = base64.b64decode(_expect(spec.get("data"), str, "data"), validate=True)
    except (binascii.Error, ValueError) as error:  # not base64, or not ASCII
        raise ProtocolError(f"tensor data is not base64: {error}") from None
    count = 1
    for side in shape:
        count *= side
    if len(raw) != count * _ITEMSIZE[dtype]:
        raise ProtocolError(f"tensor of shape {shape} and dtype {name} cannot have {len(raw)} bytes")
    tensor = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape) if count else torch.empty(shape, dtype=dtype)
    return WireTensor(tensor, device[:40], type_name[:80])


def encode(message):
    """The bytes that send() frames for `message`: equal messages give equal bytes."""
    return json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")


def send(stream, message):
    """Write one message (a dict of wire data) to a binary stream and flush it.

    An unbuffered socket's write may take only part of a large message (a socket with a timeout sends
    what fits): the rest is written until none is left, or the frame would arrive cut short."""
    body = encode(message)
    data = memoryview(_HEADER.pack(len(body)) + body)
    while data:
        written = stream.write(data)
        if written is None:  # a non-blocking stream that could take nothing now
            raise OSError("the channel could not take the message")
        data = data[written:]
    stream.flush()


def receive(stream):
    """Read one message from a binary stream; EOFError when the other side is gone."""
    return parse(receive_bytes(stream))


def receive_bytes(stream, limit=MAX_MESSAGE_BYTES, before_read=None):
    """One message's bytes, unparsed (see parse); ProtocolError if it says it is over `limit` bytes.

    before_read: called before every read (a sender may trickle a byte at a time: the reader gives the
    whole message one deadline this way)."""
    header = _read_exactly(stream, _HEADER.size, before_read)
    (length,) = _HEADER.unpack(header)
    if length > limit:
        raise ProtocolError(f"message of {length} bytes is over the {limit}-byte limit")
    return _read_exactly(stream, length, before_read)


def parse(body):
    """The message (a dict of wire data) in a message's bytes; ProtocolError, and nothing else, if
    they are not one, or not one that can be parsed within the bounds (see the module's docstring)."""
    _admit(body)
    try:
        message = json.loads(body.decode("ascii"), parse_int=_parse_int, object_pairs_hook=_unique_keys)
    except ProtocolError:
        raise
    except (ValueError, RecursionError, MemoryError) as error:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"message is not JSON: {type(error).__name__}: {str(error)[:200]}") from None
    return _expect(message, dict, "message")


# A JSON string, escapes and all. The closing quote is optional, so that a string left open matches to
# the end rather than failing: a failed match would be retried from every quote inside it (quadratic).
# Possessive (*+): no backtracking, so the engine keeps no state per escape (63 MB for 1 MB of \").
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_ONE_KIND_OF_BRACKET = bytes.maketrans(b"{}", b"[]")  # json.loads finds mismatched kinds; depth is what counts


def _admit(body):
    """Refuse, before anything is built, a frame that is too big, not ASCII, nested too deeply, or
    whose values would cost more than the parse budget."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(body)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    if not body.isascii():
        raise ProtocolError("message holds bytes that are not ASCII")
    skeleton = _STRING.sub(b'""', body)  # brackets, commas and colons in strings are text, not structure
    containers = skeleton.count(b"[") + skeleton.count(b"{")
    cost = (
        _COST_PER_BYTE * len(body)
        + _COST_PER_CONTAINER * containers
        + _COST_PER_VALUE * (skeleton.count(b",") + skeleton.count(b":"))
    )
    if cost > PARSE_BYTES_PER_BYTE * len(body) + PARSE_SLACK_BYTES:
        raise ProtocolError(
            f"message of {len(body)} bytes holds too many values ({containers} lists and "
            f"objects, {cost // max(len(body), 1)} bytes of objects per byte)"
        )
    brackets = skeleton.translate(_ONE_KIND_OF_BRACKET, _NOT_A_BRACKET)
    del skeleton
    for _ in range(MAX_DEPTH):  # each pass takes away the innermost level
        if not brackets:
            return
        brackets = brackets.replace(b"[]", b"")
    if brackets:
        raise ProtocolError(
            f"message is not JSON nested at most {MAX_DEPTH} deep: its brackets go deeper, or do not match"
        )


def _parse_int(text):
    if len(text) > MAX_INT_DIGITS:
        raise ProtocolError(f"an integer of {len(text)} digits")
    return int(text)


def _unique_keys(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ProtocolError("an object with a repeated key")
    return result


def _read_exactly(stream, count, before_read=None):
    chunks, remaining = [], count
    while remaining:
        if before_read is not None:
            before_read()
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
