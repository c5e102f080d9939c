"""autograder.checks.records: what a check records for the judge, and which records the
judge refuses (wrong key, garbage, oversized)."""

import numpy as np
import pytest
from fixtures.checks import handwritten as hw

from autograder import checks

pytestmark = pytest.mark.usefixtures("clean_checks_env")


def test_record_mode_writes_npz_and_does_not_judge(tmp_path, monkeypatch):
    monkeypatch.setenv(checks.RECORD_ENV, str(tmp_path))
    monkeypatch.setenv(checks.SEED_ENV, "99")

    def wrong(dout, cache):
        return 0 * dout, 0, "not an array"

    checks.affine_backward(hw.affine_forward, wrong)  # no AssertionError: judged elsewhere
    checks.affine_backward(hw.affine_forward, hw.affine_backward, hidden=True)
    checks.affine_backward(hw.affine_forward, hw.affine_backward, hidden=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["affine_backward.0.0.npz", "affine_backward.1.0.npz",
                     "affine_backward.1.1.npz"]
    with np.load(tmp_path / names[0], allow_pickle=False) as z:
        assert str(z["__key__"]) == "affine_backward:0:0"
        assert "str, expected a numpy array" in str(z["0/error"])
    rec = checks.load_record(tmp_path, "affine_backward:1:0")
    assert len(rec) == 5 and set(rec[0]) >= {"dx", "dW", "db", "num_dW"}
    assert checks.load_record(tmp_path, "affine_backward:1:7") is None


def test_a_record_with_the_wrong_key_or_garbage_is_ignored(tmp_path):
    checks.write_record(tmp_path, "relu:0:0", [{"f": np.zeros(2)}])
    (tmp_path / "relu.0.0.npz").rename(tmp_path / "tanh.0.0.npz")
    assert checks.load_record(tmp_path, "tanh:0:0") is None
    (tmp_path / "sigmoid.0.0.npz").write_bytes(b"not an npz")
    assert checks.load_record(tmp_path, "sigmoid:0:0") is None


def test_oversized_or_bloated_records_are_refused_without_loading(tmp_path):
    key = "affine_forward:1:0"
    checks.write_record(tmp_path, key, [{"out": np.zeros(3)}])
    assert checks.load_record(tmp_path, key)[0]["out"].shape == (3,)
    # a claim of a billion cases would allocate a billion dicts
    np.savez(checks.record_path(tmp_path, key), __key__=np.array(key),
             __ncases__=np.array(10**9))
    assert checks.load_record(tmp_path, key) is None
    # a zip bomb: 300 MB of zeros compress to a few hundred kB
    np.savez_compressed(checks.record_path(tmp_path, key), __key__=np.array(key),
                        __ncases__=np.array(1), **{"0/out": np.zeros(300 * 2**20, np.uint8)})
    assert checks.record_path(tmp_path, key).stat().st_size < 2**20
    assert checks.load_record(tmp_path, key) is None
