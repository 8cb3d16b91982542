"""Untrusted side (and the batch's recorder): run one named operation on a loaded submission.

The worker calls `perform` for every request; the batch's recorder calls it in its own process on the
solution (trusted code), so that both give answers in the very same wire form.
"""

from grader.sandbox import protocol

from . import loader, operations


def perform(namespace, name, wire_arguments, seconds):
    """Run one operation on the submission: {"ok": True, "value": ...} or {"ok": False, "error": {...}}."""
    return perform_decoded(namespace, name, decode_arguments(wire_arguments), seconds)


def decode_arguments(wire_arguments):
    """An operation's arguments as plain values (decoded ahead of time for a batch's replayed calls)."""
    return {key: unwrap(protocol.from_wire(value)) for key, value in wire_arguments.items()}


def perform_decoded(namespace, name, arguments, seconds):
    """perform() with the arguments already decoded."""
    operation = operations.OPERATIONS.get(name)
    if operation is None:
        return {"ok": False, "error": {"kind": "ProtocolError", "message": f"no operation {name!r}"}}
    outcome = {}

    def call():
        outcome["value"] = operation(namespace, **arguments)

    error = loader.run_with_time_limit(call, float(seconds), float(seconds) * protocol.WALL_FACTOR)
    if error is not None:
        return {"ok": False, "error": error}
    try:  # encoded here, so that a hostile object in the result fails as this call's error
        return {"ok": True, "value": protocol.Encoded(protocol.to_wire(outcome["value"]))}
    except Exception as failure:  # noqa: BLE001
        return {"ok": False, "error": loader.describe_error(failure)}


def unwrap(value):
    """Wire values as plain tensors, lists, dicts and numbers for the operations."""
    if isinstance(value, protocol.WireTensor):
        return value.tensor
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    if isinstance(value, tuple):
        return tuple(unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    return value
