"""Checkpoints to and from bytes (np.savez_compressed), for a database binary field."""

import io
import json

import numpy as np


def checkpoint_to_bytes(ckpt):
    """Arrays (and dicts of arrays) become npz entries; everything else is JSON metadata."""
    arrays, meta = {}, {}
    for key, value in ckpt.items():
        if isinstance(value, np.ndarray):
            arrays[key] = value
        elif isinstance(value, dict) and value and all(
            isinstance(a, np.ndarray) for a in value.values()
        ):
            arrays.update({f"{key}/{name}": a for name, a in value.items()})
        else:
            meta[key] = value
    buf = io.BytesIO()
    meta = json.dumps(meta, default=lambda x: x.item())  # NumPy scalars as plain numbers
    np.savez_compressed(buf, __meta__=np.array(meta), **arrays)
    return buf.getvalue()


def checkpoint_from_bytes(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        ckpt = json.loads(str(npz["__meta__"]))
        for entry in npz.files:
            if entry == "__meta__":
                continue
            key, _, name = entry.partition("/")
            if name:
                ckpt.setdefault(key, {})[name] = npz[entry]
            else:
                ckpt[key] = npz[entry]
    return ckpt
