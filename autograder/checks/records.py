"""The record format: what a check writes in the sandbox and the grader reads back.

A recording holds the outputs of one check call, one flat dict of arrays per case, in
an ``.npz`` file named after its key ``<check_name>:<hidden 0/1>:<occurrence>``. It is
written by untrusted code, so :func:`load_record` refuses anything malformed.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

RECORD_ENV = "AUTOGRADER_RECORD_DIR"
MAX_RECORD_BYTES = 256 * 2**20  # uncompressed size of one record file
MAX_RECORD_CASES = 1000

__all__ = ["RECORD_ENV", "MAX_RECORD_BYTES", "MAX_RECORD_CASES", "record_key", "record_path",
           "write_record", "load_record"]


def record_key(name: str, hidden: bool, occurrence: int) -> str:
    """Return the key ``<check_name>:<hidden 0/1>:<occurrence>`` of a recording."""
    return f"{name}:{int(bool(hidden))}:{int(occurrence)}"


def record_path(record_dir, key: str) -> Path:
    """Return the file holding the recording of a key."""
    return Path(record_dir) / (key.replace(":", ".") + ".npz")


def write_record(record_dir, key: str, outputs: list[dict]) -> Path:
    """Write a check's outputs (one flat dict of arrays per case) as an npz file."""
    flat = {"__key__": np.array(key), "__ncases__": np.array(len(outputs))}
    for i, out in enumerate(outputs):
        for k, v in out.items():
            flat[f"{i}/{k}"] = np.asarray(v)
    path = record_path(record_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **flat)
    os.replace(tmp, path)
    return path


def _read(path: Path, key: str) -> list[dict] | None:
    # A record is written by untrusted code: refuse one that would inflate past
    # MAX_RECORD_BYTES (a zip bomb) or claim more cases than any check draws.
    with zipfile.ZipFile(path) as zf:
        if sum(info.file_size for info in zf.infolist()) > MAX_RECORD_BYTES:
            return None
    with np.load(path, allow_pickle=False) as z:
        if str(z["__key__"]) != key:
            return None
        ncases = int(z["__ncases__"])
        if not 0 <= ncases <= MAX_RECORD_CASES:
            return None
        outputs = [{} for _ in range(ncases)]
        for name in z.files:
            if "/" in name:
                i, k = name.split("/", 1)
                outputs[int(i)][k] = z[name]
    return outputs


def load_record(record_dir, key: str) -> list[dict] | None:
    """Return the outputs recorded under a key, or None if there are none."""
    path = record_path(record_dir, key)
    if not path.is_file():
        return None
    try:
        return _read(path, key)
    except Exception:  # a corrupt or forged file counts as no recording
        return None
