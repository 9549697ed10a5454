"""Fuzz cases for src/core/onnx-header.ts (externalDataLocations), each with the verdict of the
`onnx` library's protobuf parser: the C++ protobuf ONNX Runtime parses with, so what it says a file
keeps outside is what ONNX Runtime would read.

    python3 training/tests/onnx_fuzz.py --seed 1 --random 300 --out training/tests/onnx-fuzz-corpus.json

Random cases are protobuf structures on every path from a ModelProto to a TensorProto (graphs,
subgraphs, nodes, attributes, sparse tensors, functions, training graphs) with singular messages
split over several occurrences, unknown fields, padded varints, tags with high bits, odd
data_location values and external_data entries. Mutated cases (`--mutated`) are the exported tiny
graphs with some of their messages split, tensors made external, records duplicated and bytes
changed. test_onnx_header_fuzz.py runs both through the TypeScript parser.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from pathlib import Path

import onnx

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "public" / "models" / "tiny"

# onnx.proto: the messages on the way to a TensorProto, {field: (kind, repeated)} (as onnx-header.ts)
CHILDREN = {
    "model": {7: ("graph", False), 20: ("training", True), 25: ("function", True)},
    "training": {1: ("graph", False), 2: ("graph", False)},
    "function": {7: ("node", True), 11: ("attribute", True)},
    "graph": {1: ("node", True), 5: ("tensor", True), 15: ("sparse", True)},
    "node": {5: ("attribute", True)},
    "attribute": {
        5: ("tensor", False),
        6: ("graph", False),
        10: ("tensor", True),
        11: ("graph", True),
        22: ("sparse", False),
        23: ("sparse", True),
    },
    "sparse": {1: ("tensor", False), 2: ("tensor", False)},
    "tensor": {},
}
LOCATIONS = ["mask.weights", "secret.txt", "../mask.weights", "/etc/passwd", "", "a/b", "ümlaut.bin", "mask.weights\x00x"]


def varint(n: int, pad: int = 0) -> bytes:
    """n (two's complement in 64 bits when negative) as a varint, with `pad` redundant zero groups."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append(n & 0x7F)
        n >>= 7
        if not n:
            break
        out[-1] |= 0x80
    for _ in range(pad):
        out[-1] |= 0x80
        out.append(0)
    return bytes(out)


def tag(field: int, wire: int, pad: int = 0) -> bytes:
    return varint(field << 3 | wire, pad)


def ld(field: int, body: bytes, pad: int = 0) -> bytes:
    return tag(field, 2, pad) + varint(len(body)) + body


def vi(field: int, n: int, pad: int = 0) -> bytes:
    return tag(field, 0, pad) + varint(n, pad)


# ---------------------------------------------------------------------------------------------
# random structures


def data_location(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            vi(14, 0),
            vi(14, 1),
            vi(14, 1),
            vi(14, 1, pad=rng.randint(1, 4)),
            vi(14, 2**32 + 1),  # an int32 cast: 1
            vi(14, -1),
            vi(14, 5),  # not an enum value: protobuf keeps the one before
            vi(14, 1) + vi(14, 0),
            vi(14, 0) + vi(14, 1),
            vi(14, 1) + vi(14, 5),
            ld(14, varint(1)),  # a packed (wrong wire type) encoding
            tag(14, 0, pad=1) + varint(1),
            bytes([0xF0, 0x80, 0x80, 0x80, 0x10, 0x01]),  # a 5-byte tag with bits past 32
        ]
    )


def entry(rng: random.Random) -> bytes:
    key = rng.choice(["location", "location", "offset", "length", "Location", "location\x00"]).encode()
    value = rng.choice(LOCATIONS + ["0", "4096"]).encode()
    parts = [ld(1, key), ld(2, value)]
    if rng.random() < 0.2:
        parts.append(ld(1, rng.choice([b"location", b"offset"])))
    if rng.random() < 0.2:
        parts.append(ld(2, rng.choice(LOCATIONS).encode()))
    if rng.random() < 0.1:
        parts.pop(rng.randrange(len(parts)))
    rng.shuffle(parts) if rng.random() < 0.3 else None
    return b"".join(parts)


def unknown(rng: random.Random) -> bytes:
    field = rng.choice([3, 4, 9, 12, 16, 19, 30, 999, 2**20])
    wire = rng.choice([0, 1, 2, 5])
    if wire == 0:
        return vi(field, rng.randrange(2**40))
    if wire == 2:
        return ld(field, rng.randbytes(rng.randint(0, 12)))
    return tag(field, wire) + rng.randbytes(8 if wire == 1 else 4)


def message(kind: str, depth: int, rng: random.Random) -> list[bytes]:
    """The field records of a random message of `kind`."""
    recs: list[bytes] = []
    if kind == "tensor":
        recs.append(ld(8, b"w"))
        if rng.random() < 0.5:
            recs.append(ld(9, rng.randbytes(rng.randint(0, 16))))  # raw_data
        recs += [ld(13, entry(rng)) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        recs.append(data_location(rng))
    elif kind == "attribute":
        recs.append(ld(1, b"value"))
    for field, (child, repeated) in CHILDREN[kind].items():
        if depth >= 6 or rng.random() > 0.45:
            continue
        for _ in range(rng.randint(1, 2) if repeated else 1):
            body = message(child, depth + 1, rng)
            if not repeated and len(body) > 1 and rng.random() < 0.6:  # one message over several occurrences
                cut = sorted(rng.sample(range(1, len(body)), rng.randint(1, min(2, len(body) - 1))))
                recs += [ld(field, b"".join(body[a:b])) for a, b in zip([0, *cut], [*cut, len(body)])]
            else:
                recs.append(ld(field, b"".join(body), pad=rng.choice([0, 0, 0, 1])))
    recs += [unknown(rng) for _ in range(rng.choice([0, 0, 1, 2]))]
    if rng.random() < 0.3:
        rng.shuffle(recs)
    return [r for r in recs if r]


def random_model(rng: random.Random) -> bytes:
    recs = message("model", 0, rng)
    if not any(r.startswith(tag(7, 2)) for r in recs):
        recs.append(ld(7, b"".join(message("graph", 1, rng))))
    return vi(1, 8) + b"".join(recs)


# ---------------------------------------------------------------------------------------------
# mutations of the exported graphs, on a tree of their records


def parse(data: bytes, kind: str) -> list:
    """[field, wire, payload]: payload a sub-list for the fields of CHILDREN, else the raw bytes."""
    out, pos = [], 0
    while pos < len(data):
        key, pos = _varint_at(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            start = pos
            _, pos = _varint_at(data, pos)
            out.append([field, 0, data[start:pos]])
        elif wire == 2:
            n, pos = _varint_at(data, pos)
            body = data[pos : pos + n]
            pos += n
            child = CHILDREN[kind].get(field)
            out.append([field, 2, parse(body, child[0]) if child else body, child[0] if child else None])
        else:
            size = 8 if wire == 1 else 4
            out.append([field, wire, data[pos : pos + size]])
            pos += size
    return out


def _varint_at(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        b = data[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        shift += 7
        if b < 0x80:
            return value, pos


def serialize(recs: list) -> bytes:
    out = bytearray()
    for r in recs:
        if r[1] == 2:
            out += ld(r[0], serialize(r[2]) if isinstance(r[2], list) else r[2])
        else:
            out += tag(r[0], r[1]) + r[2]
    return bytes(out)


def messages(recs: list, kind: str, parent: list | None = None):
    """Every (record list, kind, the record holding it, the parent list) of the tree."""
    yield recs, kind, parent
    for r in recs:
        if r[1] == 2 and isinstance(r[2], list):
            yield from messages(r[2], r[3], (recs, r))


def mutate(tree: list, rng: random.Random) -> None:
    every = list(messages(tree, "model"))
    recs, kind, parent = rng.choice(every)
    op = rng.choice(["split", "split", "external", "duplicate", "attribute", "drop"])
    if op == "split" and parent and len(recs) > 1:  # this message over two occurrences of its field
        holder_list, holder = parent
        cut = rng.randrange(1, len(recs))
        second = [holder[0], 2, recs[cut:], holder[3]]
        del recs[cut:]
        holder_list.insert(rng.randint(holder_list.index(holder) + 1, len(holder_list)), second)
    elif op == "external":
        tensors = [m for m in every if m[1] == "tensor"]
        if tensors:
            t = rng.choice(tensors)[0]
            t[:] = [r for r in t if r[0] not in (13, 14)] + [
                [13, 2, parse(ld(1, b"location") + ld(2, rng.choice(LOCATIONS).encode()), "tensor"), None],
                [14, 0, varint(1)],
            ]
    elif op == "duplicate" and recs:
        recs.insert(rng.randrange(len(recs) + 1), rng.choice(recs))
    elif op == "attribute":  # a random tensor as a (split) attribute of a node
        nodes = [m for m in every if m[1] == "node"]
        if nodes:
            body = b"".join(message("attribute", 5, rng)) + b"".join(ld(5, p) for p in message("tensor", 5, rng))
            rng.choice(nodes)[0].append([5, 2, parse(body, "attribute"), "attribute"])
    elif op == "drop" and recs:
        recs.pop(rng.randrange(len(recs)))


def mutated_model(base: bytes, rng: random.Random) -> bytes:
    tree = parse(base, "model")
    for _ in range(rng.randint(1, 4)):
        mutate(tree, rng)
    data = bytearray(serialize(tree))
    for _ in range(rng.choice([0, 0, 1, 3])):  # bytes changed, inserted or removed
        at = rng.randrange(len(data))
        action = rng.choice(["flip", "insert", "delete"])
        if action == "flip":
            data[at] ^= 1 << rng.randrange(8)
        elif action == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 3))
        else:
            del data[at : at + rng.randint(1, 3)]
    return bytes(data)


# ---------------------------------------------------------------------------------------------
# what the onnx library (C++ protobuf) reads


def verdict(data: bytes) -> dict:
    """parseable, and every location of every tensor whose data_location is EXTERNAL ("" where it
    names none; invalid where a location is not UTF-8)."""
    m = onnx.ModelProto()
    try:
        m.ParseFromString(data)
    except Exception:  # DecodeError, RecursionError: protobuf itself refuses the file
        return {"parseable": False, "locations": [], "invalid": False}
    locations, invalid = set(), False

    def walk(msg) -> None:
        nonlocal invalid
        if isinstance(msg, onnx.TensorProto) and msg.HasField("data_location") and msg.data_location == onnx.TensorProto.EXTERNAL:
            found = False
            for e in msg.external_data:
                try:
                    if e.key == "location":
                        locations.add(e.value)
                        found = True
                except UnicodeDecodeError:
                    invalid = True
            if not found:
                locations.add("")
        for fd, value in msg.ListFields():
            if fd.type == fd.TYPE_MESSAGE:
                repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == fd.LABEL_REPEATED  # protobuf ≥ 6
                for v in value if repeated else [value]:
                    walk(v)

    try:
        walk(m)
    except UnicodeDecodeError:
        invalid = True
    return {"parseable": True, "locations": sorted(locations), "invalid": invalid}


def corpus(seed: int, n_random: int, n_mutated: int) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    bases = {name: (TINY / name).read_bytes() for name in ("mask_step.onnx", "image_step.onnx", "mask.onnx")} if n_mutated else {}
    for name, data in bases.items():
        cases.append({"name": f"{name} as exported", "bytes": data, **verdict(data)})
    for i in range(n_random):
        data = random_model(rng)
        cases.append({"name": f"random {seed}/{i}", "bytes": data, **verdict(data)})
    for i in range(n_mutated):
        name = rng.choice(sorted(bases))
        data = mutated_model(bases[name], rng)
        cases.append({"name": f"{name} mutated {seed}/{i}", "bytes": data, **verdict(data)})
    return cases


def write(cases: list[dict], out: Path) -> None:
    """A JSON list of the cases, each file's bytes in base64 (onnx-header.fuzz.test.ts reads it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**{k: v for k, v in c.items() if k != "bytes"}, "base64": base64.b64encode(c["bytes"]).decode()} for c in cases]
    out.write_text(json.dumps({"parser": parser(), "cases": rows}, indent=0) + "\n")


def parser() -> str:
    """Which protobuf gave the verdicts: Debian's C++ one (as ONNX Runtime's) or upb, which refuses more."""
    from google.protobuf import __version__
    from google.protobuf.internal import api_implementation

    return f"onnx {onnx.__version__}, protobuf {__version__} ({api_implementation.Type()})"


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--random", type=int, default=300)
    p.add_argument("--mutated", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    write(corpus(a.seed, a.random, a.mutated), Path(a.out))
