"""The wire format between the trusted grader and the untrusted worker: framed JSON, never pickle.

A message is an 8-byte big-endian length, then that many bytes of UTF-8 JSON. Tensors and numpy arrays
travel as {"$tensor": {...}} with their raw bytes in base64; tuples as {"$tuple": [...]}; any other
object as {"$object": type name, "repr": a short repr}, so nothing the worker sends can run code here.
Decoding checks every field (dtype allowlist, shape against byte count) before building a tensor.
This module imports only the standard library and torch, so the sandboxed worker (grader.untrusted) can load it.
"""

import base64
import json
import struct

from dataclasses import dataclass

import torch

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
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

    __slots__ = ("tensor", "device", "type_name")

    def __init__(self, tensor, device, type_name):
        self.tensor = tensor
        self.device = device
        self.type_name = type_name

    def __repr__(self):
        return f"WireTensor({self.tensor!r}, device={self.device!r}, type_name={self.type_name!r})"


class WireObject:
    """Something the worker could not send as data: only its type name and a short repr arrive."""

    __slots__ = ("type_name", "text")

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
    except Exception as error:  # a hostile __repr__ must not break the worker's reply
        text = f"<repr raised {type(error).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def from_wire(data):
    """The Python value for wire data: WireTensor, WireObject, tuple, list, dict, or a plain value."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_wire(item) for item in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ProtocolError(f"unexpected value on the wire: {type(data).__name__}")
    if "$tensor" in data:
        return _decode_tensor(data["$tensor"])
    if "$tuple" in data:
        return tuple(from_wire(item) for item in _expect(data["$tuple"], list, "$tuple"))
    if "$dict" in data:
        return {str(key): from_wire(item) for key, item in _expect(data["$dict"], dict, "$dict").items()}
    if "$object" in data:
        return WireObject(str(data["$object"])[:200], str(data.get("repr", ""))[:200])
    raise ProtocolError(f"unknown wire tag in {sorted(data)[:3]}")


def _expect(value, kind, what):
    if not isinstance(value, kind):
        raise ProtocolError(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _decode_tensor(spec):
    spec = _expect(spec, dict, "$tensor")
    dtype = DTYPES.get(spec.get("dtype"))
    if dtype is None:
        raise ProtocolError(f"tensor dtype {spec.get('dtype')!r} is not allowed")
    shape = _expect(spec.get("shape"), list, "shape")
    if len(shape) > 8 or not all(isinstance(side, int) and 0 <= side < 2**31 for side in shape):
        raise ProtocolError(f"bad tensor shape {shape[:9]!r}")
    raw = base64.b64decode(_expect(spec.get("data"), str, "data"), validate=True)
    count = 1
    for side in shape:
        count *= side
    itemsize = _ITEMSIZE[dtype]
    if len(raw) != count * itemsize:
        raise ProtocolError(f"tensor of shape {shape} and dtype {spec['dtype']} cannot have {len(raw)} bytes")
    tensor = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape) if count else torch.empty(shape, dtype=dtype)
    return WireTensor(tensor, str(spec.get("device", "?"))[:40], str(spec.get("type", "?"))[:80])


def encode(message):
    """The bytes that send() frames for `message`: equal messages give equal bytes."""
    return json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")


def send(stream, message):
    """Write one message (a dict of wire data) to a binary stream and flush it."""
    body = encode(message)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def receive(stream):
    """Read one message from a binary stream; EOFError when the other side is gone."""
    return parse(receive_bytes(stream))


def receive_bytes(stream):
    """One message's bytes, unparsed (see parse)."""
    header = _read_exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {length} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    return _read_exactly(stream, length)


def parse(body):
    """The message (a dict of wire data) in a message's bytes."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError(f"message is not JSON: {error}") from None
    return _expect(message, dict, "message")


def _read_exactly(stream, count):
    chunks, remaining = [], count
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
