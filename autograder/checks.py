"""Trusted checks called by the test cells of the assignments.

A test cell calls a check with the student's functions, for example
``checks.affine_backward(affine_forward, affine_backward)`` (visible) or, inside the
hidden block, ``checks.affine_backward(affine_forward, affine_backward, hidden=True)``.
Each check has three steps (docs/architecture.md, "Grading"):

1. ``cases(rng)``: inputs drawn from a seeded generator, numpy only;
2. ``run(fns, case)``: calls the student's functions and returns a flat dict of arrays;
3. ``judge(case, outputs)``: compares with the instructor's reference (the ``course``
   package) and returns ``(ok, message)``.

In a notebook, or under plain ``nbgrader autograde``, a check does all three in the
kernel and raises ``AssertionError(message)``. With ``AUTOGRADER_RECORD_DIR`` set (the
sandboxed grader), it only runs step 2 and writes the outputs to that directory; the
grader judges them in its own process with :mod:`autograder.judge`.

Seeds: visible checks use ``VISIBLE_SEED``. Hidden checks use ``$AUTOGRADER_SEED`` when
recording, ``autograder.seeds.student_seed(student, assignment)`` under ``nbgrader
autograde`` (the kernel runs in ``autograded/<student>/<assignment>/``), and
``LOCAL_HIDDEN_SEED`` in a student's own Jupyter.
"""

from __future__ import annotations

import os
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

VISIBLE_SEED = 1234
LOCAL_HIDDEN_SEED = 4321
RECORD_ENV = "AUTOGRADER_RECORD_DIR"
SEED_ENV = "AUTOGRADER_SEED"

# Modules whose code a graded function may not run: the course's answers and autodiff.
ANSWER_MODULES = ("activations", "losses", "layers", "network", "optim", "gradcheck",
                  "autodiff")
AUTODIFF_PACKAGES = ("autograd", "torch", "jax", "jaxlib", "tensorflow", "keras",
                     "micrograd")
OTHER_ANSWERS = ("sklearn.neural_network",)  # a ready-made MLP trainer

TOL = {"float64": 1e-7, "float32": 2e-4}
MAX_RECORD_BYTES = 256 * 2**20  # uncompressed size of one record file
MAX_RECORD_CASES = 1000
NUM_TOL = 1e-5  # relative error allowed against central differences (float64, h=1e-6)

CHECKS: dict[str, "Check"] = {}
_OCCURRENCES: dict[tuple[str, bool], int] = {}


class StudentError(Exception):
    """A student's function raised, or returned something of the wrong kind."""


# ----------------------------------------------------------------------------- seeds

def _nbgrader_ids(cwd: Path | None = None) -> tuple[str, str]:
    """Return (student, assignment) from the autograde working directory."""
    parts = (cwd or Path.cwd()).resolve().parts
    if "autograded" in parts:
        i = len(parts) - 1 - parts[::-1].index("autograded")
        if i + 2 < len(parts):
            return parts[i + 1], parts[i + 2]
    return parts[-2], parts[-1]


def kernel_seed(hidden: bool) -> int:
    """Return the seed the kernel uses for a visible or hidden check."""
    if not hidden:
        return VISIBLE_SEED
    if os.environ.get(RECORD_ENV) and os.environ.get(SEED_ENV):
        return int(os.environ[SEED_ENV])
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        from autograder.seeds import student_seed

        return student_seed(*_nbgrader_ids())
    return LOCAL_HIDDEN_SEED


def case_rng(name: str, hidden: bool, seed: int) -> np.random.Generator:
    """Return the generator of a check's cases."""
    return np.random.default_rng([int(seed) % 2**63, zlib.crc32(name.encode()), int(hidden)])


# ------------------------------------------------------------------------ recordings

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


def load_record(record_dir, key: str) -> list[dict] | None:
    """Return the outputs recorded under a key, or None if there are none."""
    path = record_path(record_dir, key)
    if not path.is_file():
        return None
    try:
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
    except Exception:  # a corrupt or forged file counts as no recording
        return None
    return outputs


# ------------------------------------------------------------- guarded student calls

GRADER_MODULES = ("autograder.reference", "autograder.judge", "autograder.audit",
                  "autograder.bugs")
JUDGING_CODE = {"judge", "judge_all", "judge_call", "judge_notebook"}


def _forbidden(module: str) -> bool:
    if any(module == m or module.startswith(m + ".") for m in GRADER_MODULES):
        return True
    parts = module.split(".")
    if parts[0] in AUTODIFF_PACKAGES:
        return True
    if any(module == m or module.startswith(m + ".") for m in OTHER_ANSWERS):
        return True
    return len(parts) > 1 and parts[0] == "course" and parts[1] in ANSWER_MODULES


def call(fn, *args, what=None, **kwargs):
    """Call a student's function, refusing help from the course's answers or autodiff."""
    what = what or getattr(fn, "__name__", "the function")
    if not callable(fn):
        raise StudentError(f"{what} is not a function (got {type(fn).__name__})")
    seen = []

    def hook(frame, event, arg):
        if event == "call":
            mod = frame.f_globals.get("__name__") or ""
            if mod == __name__ and frame.f_code.co_name in JUDGING_CODE:
                mod += ".judge"  # a check's judge computes the right answers
        elif event == "c_call":
            mod = getattr(arg, "__module__", None) or ""
        else:
            return
        if not seen and mod and (_forbidden(mod) or mod == __name__ + ".judge"):
            name = frame.f_code.co_name if event == "call" else getattr(arg, "__name__", "?")
            seen.append(f"{mod}.{name}")

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        result = fn(*args, **kwargs)
    except StudentError:
        raise
    except Exception as e:
        raise StudentError(f"{what} raised {type(e).__name__}: {e}{_hint(e)}") from None
    finally:
        sys.setprofile(previous)
    if seen:
        mod, _, fname = seen[0].rpartition(".")
        did = f"imports {mod}" if fname == "<module>" else f"calls {seen[0]}"
        raise StudentError(
            f"{what} {did}: graded functions must be your own code, not the "
            "course package's implementation, the grader's reference or an automatic "
            "differentiation library")
    return result


def _hint(e: Exception) -> str:
    text = str(e)
    if isinstance(e, NotImplementedError):
        return " (not written yet)"
    if "matmul" in text or "not aligned" in text or "broadcast" in text:
        return " (a shape mismatch: check your transposes and which axis you sum over)"
    return ""


def arr(x, what: str) -> np.ndarray:
    """Return a student's value as a plain numeric array, or raise StudentError."""
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return np.asarray(x)
    if isinstance(x, (np.ndarray, list, tuple)):
        try:
            a = np.array(x, subok=False)
        except Exception:
            a = None
        if a is not None and a.dtype.kind in "biuf":
            return a
        if a is not None:
            raise StudentError(f"{what} holds {a.dtype} values, expected numbers")
    raise StudentError(f"{what} is a {type(x).__name__}, expected a numpy array")


def unpack(result, n: int, what: str, names: str):
    """Return a tuple of n values a student's function returned, or raise StudentError."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else \
            type(result).__name__
        raise StudentError(f"{what} must return {n} values ({names}), got {got}")
    return tuple(result)


# ------------------------------------------------------------------------ comparison

def _finite_msg(label, got):
    bad = ~np.isfinite(got)
    return f"{label} has {int(bad.sum())} nan/inf entries"


def diagnose(got, want, n=None, alts=()):
    """Return the likely mistake when got is wrong in a recognisable way, else ''."""
    for label, alt in alts:
        if alt is not None and np.shape(alt) == got.shape and _close(got, alt, 1e-5):
            return label
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got, want.T, 1e-5):
        return "it equals the transpose of the right answer: a missing or extra .T"
    ww = float(np.sum(want.astype(np.float64) ** 2))
    if ww > 0:
        r = float(np.sum(got.astype(np.float64) * want)) / ww
        if r != 0 and _close(got, r * want, 1e-4):
            if abs(r + 1) < 1e-3:
                return "wrong sign (ratio -1)"
            if n and abs(r - n) < 1e-3 * n:
                return f"ratio {r:.4g} = N: the 1/N of the mean over the batch is missing"
            if n and abs(r * n - 1) < 1e-3:
                return f"ratio {r:.4g} = 1/N: an extra 1/N (divided by N twice, or a mean " \
                       "where a sum belongs)"
            if n and abs(r + n) < 1e-3 * n:
                return "ratio -N: wrong sign and a missing 1/N"
            if abs(r - 2) < 1e-3:
                return "twice too large (ratio 2)"
            if abs(r - 0.5) < 1e-3:
                return "half the right value (ratio 1/2)"
            return f"off by a constant factor {r:.4g}"
    return ""


def _close(got, want, tol):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-3)
    return bool(np.all(np.abs(got - want) <= tol * (np.abs(want) + scale)))


def compare(label, got, want, dtype="float64", n=None, alts=(), tol=None):
    """Return None if got matches want to the dtype's tolerance, else a message."""
    if got is None:
        return f"{label} is missing"
    if got.dtype.kind not in "biuf":
        return f"{label} is not numeric"
    want = np.asarray(want)
    if got.shape != want.shape:
        msg = f"{label} has shape {got.shape}, expected {want.shape}"
        if got.ndim == 2 and got.shape == want.shape[::-1]:
            msg += ": the transpose of the right shape, a missing or extra .T"
        elif want.ndim == 1 and got.ndim == 2 and got.shape[1] == want.shape[0]:
            msg += ": sum over the batch (axis 0)"
        elif got.size == want.size:
            msg += ": the right numbers of entries, in the wrong shape"
        return msg
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return _finite_msg(label, got)
    tol = tol if tol is not None else TOL.get(str(dtype), TOL["float64"])
    if _close(got, want, tol):
        return None
    err = np.abs(got - want)
    i = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
    rel = float(np.max(err) / max(float(np.max(np.abs(want), initial=0.0)), 1e-12))
    msg = (f"{label} is wrong: max abs error {float(np.max(err)):.3g}, relative to its "
           f"largest entry {rel:.3g}")
    if err.ndim:
        msg += f" (worst at index {tuple(int(k) for k in i)})"
    why = diagnose(got, np.asarray(want, dtype=np.float64), n=n, alts=alts)
    return msg + (f"; likely: {why}" if why else "")


def rel_error(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if d == 0 else float(np.linalg.norm(a - b) / d)


def numeric_grad(f, x, dout, h=1e-6):
    """Return the gradient of sum(f() * dout) with respect to x by central differences."""
    g = np.zeros(x.shape)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        flat[i] = old - h
        fm = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return g


def _numeric_msg(label, got, num, what):
    """Compare a student's gradient with central differences of their own forward."""
    if got.shape != num.shape or not np.all(np.isfinite(got)):
        return None  # already reported against the reference
    e = rel_error(got, num)
    # rounding leaves central differences about 1e-9 off in absolute terms: tiny
    # gradients (a saturated tanh) are judged by their absolute error
    if e > NUM_TOL and float(np.max(np.abs(got - num), initial=0.0)) > 1e-6:
        return (f"{label} does not match central differences of your own {what} "
                f"(relative error {e:.2e})")
    return None


# ---------------------------------------------------------------------- the framework

class Check:
    """A trusted check: cases, run and judge; subclasses set ``name`` and ``functions``."""

    name = ""
    functions: tuple[str, ...] = ()

    def cases(self, rng):  # pragma: no cover - every check overrides
        raise NotImplementedError

    def run(self, fns, case):  # pragma: no cover
        raise NotImplementedError

    def judge(self, case, outputs):  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def describe(case):
        return ", ".join(f"{k}={v}" for k, v in case.get("info", {}).items())

    def safe_run(self, fns, case):
        """Run one case, turning a student's error into an ``error`` entry."""
        try:
            out = self.run(fns, case)
            return {k: arr(v, k) for k, v in out.items()}
        except StudentError as e:
            return {"error": np.array(str(e))}
        except Exception as e:  # e.g. indexing a wrongly shaped result
            return {"error": np.array(f"{type(e).__name__}: {e}")}

    def judge_all(self, cases, outputs):
        """Judge every case; return (ok, message) for the first failing one."""
        if outputs is None or len(outputs) != len(cases):
            return False, f"{self.name}: did not run (the cell raised or timed out before " \
                          "this check)"
        for k, (case, out) in enumerate(zip(cases, outputs)):
            if "error" in out:
                ok, msg = False, str(out["error"])
            else:
                try:
                    ok, msg = self.judge(case, out)
                except Exception as e:
                    ok, msg = False, f"could not judge the result ({type(e).__name__}: {e})"
            if not ok:
                where = self.describe(case)
                return False, f"{self.name}, case {k + 1} of {len(cases)}" + \
                    (f" ({where})" if where else "") + f": {msg}"
        return True, f"{self.name}: {len(cases)} cases passed"

    def __call__(self, *fns, hidden=False):
        hidden = bool(hidden)
        if len(fns) != len(self.functions):
            raise TypeError(f"checks.{self.name} takes {len(self.functions)} function(s): "
                            f"{', '.join(self.functions)}")
        occ = _OCCURRENCES.get((self.name, hidden), 0)
        _OCCURRENCES[(self.name, hidden)] = occ + 1
        cases = self.cases(case_rng(self.name, hidden, kernel_seed(hidden)))
        outputs = [self.safe_run(fns, case) for case in cases]
        record_dir = os.environ.get(RECORD_ENV)
        if record_dir:
            write_record(record_dir, record_key(self.name, hidden, occ), outputs)
            return None
        ok, msg = self.judge_all(cases, outputs)
        if not ok:
            raise AssertionError(msg)
        print(("hidden " if hidden else "") + msg)
        return None


def register(cls):
    """Add a check to the registry and expose it as ``checks.<name>``."""
    inst = cls()
    inst.__doc__ = cls.__doc__
    CHECKS[inst.name] = inst
    globals()[inst.name] = inst
    return cls


def _dtype(rng):
    return np.float32 if rng.random() < 0.3 else np.float64


def _ref(module):
    import importlib

    return importlib.import_module(f"course.{module}")


def _reference():
    from autograder import reference

    return reference


# -------------------------------------------------------------- a1: perceptron, acts

@register
class PerceptronUpdate(Check):
    """One step of the perceptron learning rule, on misclassified and correct examples."""

    name = "perceptron_update"
    functions = ("perceptron_update",)

    def cases(self, rng):
        out = []
        for k in range(8):
            D = int(rng.integers(2, 7))
            w = rng.standard_normal(D) if k > 1 else np.zeros(D)
            b = float(rng.standard_normal()) if k > 1 else 0.0
            x = rng.standard_normal(D)
            t = float(k % 2) if k < 2 else float(rng.integers(0, 2))
            lr = float(rng.choice([0.1, 0.5, 1.0]))
            out.append(dict(w=w, b=b, x=x, t=t, lr=lr, info=dict(D=D)))
        return out

    def run(self, fns, c):
        res = call(fns[0], c["w"].copy(), c["b"], c["x"].copy(), c["t"], c["lr"])
        w, b = unpack(res, 2, "perceptron_update", "w, b")
        return {"w": w, "b": b}

    def judge(self, c, o):
        w, b = _reference().perceptron_update(c["w"], c["b"], c["x"], c["t"], c["lr"])
        z = float(np.dot(c["w"], c["x"]) + c["b"])
        alts_w, alts_b = [], []
        wg, bg = _reference().perceptron_update(c["w"], c["b"], c["x"], c["t"], c["lr"],
                                                threshold_ge=False)
        if z == 0:
            hint = "at w.x + b = 0 the prediction must be 1 (the step is 1 for z >= 0)"
            alts_w.append((hint, wg))
            alts_b.append((hint, np.asarray(bg)))
        y = 1.0 if z >= 0 else 0.0
        flip = (c["w"] - c["lr"] * (c["t"] - y) * c["x"], c["b"] - c["lr"] * (c["t"] - y))
        alts_w.append(("the update has the wrong sign; the rule is w += lr (t - y) x", flip[0]))
        alts_b.insert(0, ("the bias was not updated", np.asarray(c["b"])))
        alts_b.append(("the update has the wrong sign; the rule is b += lr (t - y)",
                       np.asarray(flip[1])))
        for label, got, want, alts in (("w", o["w"], w, alts_w), ("b", o["b"], b, alts_b)):
            msg = compare(label, got.reshape(np.shape(want)) if got.size == np.size(want)
                          else got, np.asarray(want), alts=alts)
            if msg:
                return False, msg
        return True, ""


@register
class PerceptronTrain(Check):
    """Training from zero weights for a given number of epochs over the examples in order."""

    name = "perceptron_train"
    functions = ("perceptron_train",)

    def cases(self, rng):
        out = []
        for _ in range(3):
            N, D = int(rng.integers(6, 15)), int(rng.integers(2, 5))
            X = np.round(rng.standard_normal((N, D)), 2)
            t = rng.integers(0, 2, N).astype(np.float64)  # not separable: updates every epoch
            epochs = int(rng.integers(2, 6))
            lr = float(rng.choice([0.1, 1.0]))
            out.append(dict(X=X, t=t, lr=lr, epochs=epochs, info=dict(N=N, D=D, epochs=epochs)))
        return out

    def run(self, fns, c):
        res = call(fns[0], c["X"].copy(), c["t"].copy(), lr=c["lr"], epochs=c["epochs"])
        w, b = unpack(res, 2, "perceptron_train", "w, b")
        return {"w": w, "b": b}

    def judge(self, c, o):
        X, t, lr, E = c["X"], c["t"], c["lr"], c["epochs"]
        w, b = _reference().perceptron_train(X, t, lr, E)
        alts = []
        for e, what in ((E - 1, "one epoch too few"), (E + 1, "one epoch too many")):
            we, be = _reference().perceptron_train(X, t, lr, e)
            alts.append((f"matches {e} epochs: {what} (off by one in the epoch loop)", we, be))
        wg, bg = _reference().perceptron_train(X, t, lr, E, threshold_ge=False)
        alts.append(("matches a step that is 0 at z = 0: predict 1 when w.x + b >= 0", wg, bg))
        got_w = o["w"].reshape(-1) if o["w"].size == w.size else o["w"]
        got_b = o["b"].reshape(()) if o["b"].size == 1 else o["b"]
        for label, aw, ab in alts:
            if got_w.shape == aw.shape and _close(got_w, aw, 1e-6) and \
                    _close(got_b, ab, 1e-6) and not _close(got_w, w, 1e-6):
                return False, f"w and b are wrong; likely: {label}"
        msg = compare("w", got_w, w) or compare("b", got_b, np.asarray(b))
        return (msg is None), msg or ""


def _act_ref(name):
    a = _ref("activations")
    table = {
        "sigmoid": (a.sigmoid, a.sigmoid_grad),
        "tanh": (a.tanh, a.tanh_grad),
        "relu": (a.relu, a.relu_grad),
        "leaky_relu": (a.leaky_relu, a.leaky_relu_grad),
    }
    return table[name]


def _wrong_derivatives(name, z, f, what="derivative"):
    """Known wrong answers for f'(z): the specific slips first, then other activations."""
    a = _ref("activations")
    alts = []
    if name == "sigmoid":
        alts.append(("returns s = sigmoid(z) itself; the derivative is s * (1 - s)", a.sigmoid(z)))
        alts.append(("uses z where the sigmoid output s belongs: s * (1 - s) needs s", z * (1 - z)))
    if name == "tanh":
        alts.append(("uses z where the tanh output t belongs: 1 - t**2 needs t", 1 - z * z))
        alts.append(("returns 1 - t; the derivative is 1 - t**2", 1 - np.tanh(z)))
    own = dict(sigmoid=a.sigmoid_grad, tanh=a.tanh_grad, relu=a.relu_grad,
               leaky_relu=a.leaky_relu_grad)[name]
    alts.append((f"the {what} was evaluated at the output f(z) instead of the input z",
                 own(f(z))))
    alts.append((f"returns {name}(z) itself, not its derivative", f(z)))
    for other, g in (("sigmoid", a.sigmoid_grad), ("tanh", a.tanh_grad), ("relu", a.relu_grad),
                     ("leaky_relu", a.leaky_relu_grad)):
        if other != name:
            alts.append((f"matches the derivative of {other}, not of {name}", g(z)))
    return alts


def _draw_z(rng, dtype, away_from_zero=False):
    shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    z = rng.standard_normal(shape) * float(rng.choice([1.0, 3.0]))
    if away_from_zero:
        z = np.where(np.abs(z) < 1e-2, 0.5, z)
    return z.astype(dtype)


class _Activation(Check):
    """Forward and derivative of an activation, element by element, any shape and dtype."""

    functions = ("f", "f_grad")
    kink = False

    def cases(self, rng):
        out = []
        for k in range(6):
            dtype = np.float64 if k < 3 else _dtype(rng)
            z = _draw_z(rng, dtype, away_from_zero=self.kink)
            if k == 0:
                z = np.array([-30.0, -5.0, -1.0, -0.25, 0.25, 1.0, 5.0, 30.0], dtype=dtype)
            out.append(dict(z=z, info=dict(shape=z.shape, dtype=np.dtype(dtype).name)))
        return out

    def extra_args(self):
        return ()

    def run(self, fns, c):
        f, g = fns
        z = c["z"]
        out = {"f": call(f, z.copy(), *self.extra_args(), what=self.name),
               "grad": call(g, z.copy(), *self.extra_args(), what=f"{self.name}_grad")}
        if z.dtype == np.float64:
            h = 1e-6
            zp, zm = z + h, z - h
            fp = arr(call(f, zp, *self.extra_args(), what=self.name), self.name)
            fm = arr(call(f, zm, *self.extra_args(), what=self.name), self.name)
            if fp.shape == z.shape and fm.shape == z.shape:
                out["num"] = (fp.astype(np.float64) - fm) / (2 * h)
        return out

    def judge(self, c, o):
        z = c["z"].astype(np.float64)
        f, g = _act_ref(self.name)
        dt = c["z"].dtype.name
        msg = compare(f"{self.name}(z)", o["f"], f(z), dt, alts=self.forward_alts(z))
        if msg:
            return False, msg
        msg = compare(f"{self.name}_grad(z)", o["grad"], g(z), dt,
                      alts=_wrong_derivatives(self.name, z, f))
        if msg:
            return False, msg
        if "num" in o:
            msg = _numeric_msg(f"{self.name}_grad(z)", o["grad"], o["num"], self.name)
            if msg:
                return False, msg
        return True, ""

    def forward_alts(self, z):
        return ()


@register
class Sigmoid(_Activation):
    """sigmoid(z) = 1 / (1 + exp(-z)) and its derivative s (1 - s)."""

    name = "sigmoid"


@register
class Tanh(_Activation):
    """tanh(z) and its derivative 1 - tanh(z)**2."""

    name = "tanh"


@register
class Relu(_Activation):
    """relu(z) = max(0, z) and its derivative (1 for z > 0, else 0)."""

    name = "relu"
    kink = True


@register
class LeakyRelu(_Activation):
    """leaky_relu(z) with its default slope 0.01, and its derivative."""

    name = "leaky_relu"
    kink = True

    def forward_alts(self, z):
        out = []
        for a in (0.0, 0.1, 0.2, 1.0):
            out.append((f"the slope for z < 0 is {a}, it should be 0.01",
                        np.where(z > 0, z, a * z)))
        return out

    def judge(self, c, o):
        ok, msg = super().judge(c, o)
        if not ok and "leaky_relu_grad" in msg and o["grad"].shape == c["z"].shape:
            neg = c["z"] < 0
            if neg.any():
                slope = float(np.median(o["grad"][neg]))
                if abs(slope - 0.01) > 1e-6:
                    msg += f"; for z < 0 your derivative is {slope:.4g}, it should be 0.01"
        return ok, msg


# --------------------------------------------------------------------- a2: the losses

def _logits(rng, dtype, big=False):
    N, C = int(rng.integers(2, 7)), int(rng.integers(2, 6))
    z = rng.standard_normal((N, C)) * 2
    if big:  # at least one logit per row above 800: exp overflows without the shift
        z = z * 300 + 1000
        z[:, 0] = np.maximum(z[:, 0], 900)
    return z.astype(dtype)


def _loss_cases(rng, k_total=5):
    out = []
    for k in range(k_total):
        dtype = np.float64 if k < 3 else _dtype(rng)
        z = _logits(rng, dtype, big=(k == 2))
        out.append(dict(z=z, info=dict(N=z.shape[0], C=z.shape[1], dtype=z.dtype.name,
                                       logits="large (~1e3)" if k == 2 else "moderate")))
    return out


def _unstable(label, got, big, fix):
    if big and not np.all(np.isfinite(got)):
        return f"{label} has nan/inf for logits of magnitude ~1e3: numerically unstable; {fix}"
    return None


SHIFT_FIX = "subtract the row maximum before exp"


class _RowwiseCheck(Check):
    """A function applied row by row to (N, C) logits, judged against a reference in
    ``course.losses`` called ``ref``, including logits too large for a naive formula."""

    ref, label, key, fix, axis_hint = "", "", "", "", ""

    def cases(self, rng):
        return _loss_cases(rng)

    def run(self, fns, c):
        return {self.key: call(fns[0], c["z"].copy())}

    def judge(self, c, o):
        ref = getattr(_ref("losses"), self.ref)
        z = c["z"].astype(np.float64)
        msg = _unstable(self.label, o[self.key], "large" in c["info"]["logits"], self.fix)
        if msg:
            return False, msg
        alts = [(self.axis_hint, ref(z, axis=0))]
        msg = compare(self.label, o[self.key], ref(z), c["z"].dtype.name, alts=alts)
        return msg is None, msg or ""


@register
class Softmax(_RowwiseCheck):
    """softmax(z) row by row for (N, C) logits, including very large logits."""

    name = "softmax"
    functions = ("softmax",)
    ref, label, key, fix = "softmax", "softmax(z)", "p", SHIFT_FIX
    axis_hint = "normalised over the wrong axis: each ROW must sum to 1"


@register
class SoftmaxBackward(Check):
    """softmax_backward(dout, p): the gradient through softmax, given its output p."""

    name = "softmax_backward"
    functions = ("softmax", "softmax_backward")

    def cases(self, rng):
        out = []
        for c in _loss_cases(rng, 4):
            c["dout"] = rng.standard_normal(c["z"].shape).astype(c["z"].dtype)
            c["info"]["logits"] = "moderate"
            c["z"] = c["z"] / 100 if np.abs(c["z"]).max() > 100 else c["z"]
            out.append(c)
        return out

    def run(self, fns, c):
        sm, back = fns
        p = arr(call(sm, c["z"].copy(), what="softmax"), "softmax(z)")
        out = {"dz": call(back, c["dout"].copy(), p, what="softmax_backward")}
        if c["z"].dtype == np.float64:
            z = c["z"].copy()
            out["num"] = numeric_grad(lambda: call(sm, z, what="softmax"), z, c["dout"])
        return out

    def judge(self, c, o):
        L = _ref("losses")
        z = c["z"].astype(np.float64)
        p, d = L.softmax(z), c["dout"].astype(np.float64)
        want = p * (d - np.sum(d * p, axis=1, keepdims=True))
        alts = [("only the diagonal of the Jacobian: dout * p * (1 - p) misses the "
                 "-p_i p_j terms", d * p * (1 - p))]
        msg = compare("dz", o["dz"], want, c["z"].dtype.name, alts=alts)
        if not msg and "num" in o:
            msg = _numeric_msg("dz", o["dz"], o["num"], "softmax")
        return msg is None, msg or ""


@register
class LogSoftmax(_RowwiseCheck):
    """log_softmax(z) row by row, finite even where softmax underflows."""

    name = "log_softmax"
    functions = ("log_softmax",)
    ref, label, key = "log_softmax", "log_softmax(z)", "lp"
    fix = "compute z - max - log(sum(exp(z - max))) instead of log(softmax(z))"
    axis_hint = "normalised over the wrong axis (columns instead of rows)"


def _loss_run(fn, what, scores, y):
    res = call(fn, scores.copy(), y.copy(), what=what)
    loss, d = unpack(res, 2, what, "loss, dscores")
    out = {"loss": loss, "dscores": d}
    if scores.dtype == np.float64 and np.max(np.abs(scores)) < 100:  # meaningful there
        s = scores.copy()

        def f():
            return unpack(call(fn, s, y.copy(), what=what), 2, what, "loss, dscores")[0]

        out["num"] = numeric_grad(f, s, np.float64(1.0))
    return out


def _loss_judge(c, o, ref, name, big_fix, alts_fn):
    z = c["z"].astype(np.float64)
    big = "large" in c["info"]["logits"]
    N = z.shape[0]
    loss, d = ref(z, c["y"])
    dt = c["z"].dtype.name
    for label, got in (("loss", o["loss"]), ("dscores", o["dscores"])):
        msg = _unstable(f"the {label}", got, big, big_fix)
        if msg:
            return False, msg
    got_loss = o["loss"].reshape(()) if o["loss"].size == 1 else o["loss"]
    msg = compare("the loss", got_loss, np.asarray(loss), dt, n=N, alts=alts_fn(z, "loss"))
    if msg:
        return False, msg
    msg = compare("dscores", o["dscores"], d, dt, n=N, alts=alts_fn(z, "grad"))
    if not msg and "num" in o:
        msg = _numeric_msg("dscores", o["dscores"], o["num"], name)
    return msg is None, msg or ""


@register
class SoftmaxCrossEntropy(Check):
    """Mean softmax cross-entropy from logits and integer labels, and its gradient."""

    name = "softmax_cross_entropy"
    functions = ("softmax_cross_entropy",)

    def cases(self, rng):
        out = _loss_cases(rng)
        for c in out:
            c["y"] = rng.integers(0, c["z"].shape[1], c["z"].shape[0])
        return out

    def run(self, fns, c):
        return _loss_run(fns[0], self.name, c["z"], c["y"])

    def judge(self, c, o):
        L = _ref("losses")
        y = c["y"]

        def alts(z, which):
            N = z.shape[0]
            p = L.softmax(z)
            onehot = np.eye(z.shape[1])[y]
            if which == "grad":
                return [("dscores = p - onehot(y) without the 1/N; the loss is a mean",
                         p - onehot),
                        ("dscores = onehot(y) - p: wrong sign", (onehot - p) / N),
                        ("subtracted 1 from every entry of p instead of only at the label",
                         (p - 1) / N)]
            return [("the loss is summed, not averaged over the N examples",
                     np.asarray(-L.log_softmax(z)[np.arange(N), y].sum()))]

        return _loss_judge(c, o, L.softmax_cross_entropy, self.name,
                           "use log_softmax (z - max - logsumexp) rather than log(softmax)", alts)


@register
class BceWithLogits(Check):
    """Mean binary cross-entropy of sigmoid(scores) from logits (N,), and its gradient."""

    name = "bce_with_logits"
    functions = ("bce_with_logits",)

    def cases(self, rng):
        out = []
        for c in _loss_cases(rng):
            z = c["z"][:, 0].copy()
            c.update(z=z, y=rng.integers(0, 2, z.shape[0]).astype(z.dtype))
            c["info"].pop("C")
            out.append(c)
        return out

    def run(self, fns, c):
        return _loss_run(fns[0], self.name, c["z"], c["y"])

    def judge(self, c, o):
        L = _ref("losses")
        a = _ref("activations")

        def alts(z, which):
            N = z.shape[0]
            s = a.sigmoid(z)
            if which == "grad":
                return [("dscores = sigmoid(z) - y without the 1/N", s - c["y"]),
                        ("wrong sign: dscores = (sigmoid(z) - y) / N", (c["y"] - s) / N)]
            return []

        return _loss_judge(c, o, L.bce_with_logits, self.name,
                           "use max(z, 0) - z*y + log(1 + exp(-|z|)) instead of log(sigmoid(z))",
                           alts)


# ------------------------------------------------------------------- a3: backprop

def _affine_case(rng, dtype, square=False):
    N, D = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    H = D if square else int(rng.choice([h for h in range(2, 7) if h != D]))
    x = rng.standard_normal((N, D)).astype(dtype)
    W = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    b = rng.standard_normal(H).astype(dtype)
    dout = rng.standard_normal((N, H)).astype(dtype)
    return dict(x=x, W=W, b=b, dout=dout, info=dict(N=N, D=D, H=H, dtype=np.dtype(dtype).name))


def _affine_cases(rng):
    return [_affine_case(rng, np.float64, square=True), _affine_case(rng, np.float64),
            _affine_case(rng, np.float64), _affine_case(rng, _dtype(rng)),
            _affine_case(rng, _dtype(rng), square=True)]


@register
class AffineForward(Check):
    """affine_forward(x, W, b) returns out = x @ W + b and a cache."""

    name = "affine_forward"
    functions = ("affine_forward",)

    def cases(self, rng):
        return _affine_cases(rng)

    def run(self, fns, c):
        res = call(fns[0], c["x"].copy(), c["W"].copy(), c["b"].copy())
        out, _ = unpack(res, 2, "affine_forward", "out, cache")
        return {"out": out}

    def judge(self, c, o):
        x, W, b = (c[k].astype(np.float64) for k in ("x", "W", "b"))
        alts = [("x @ W without the bias b", x @ W)]
        if W.shape[0] == W.shape[1]:
            alts.append(("x @ W.T + b: W must not be transposed", x @ W.T + b))
        msg = compare("out", o["out"], x @ W + b, c["x"].dtype.name, alts=alts)
        return msg is None, msg or ""


@register
class AffineBackward(Check):
    """affine_backward(dout, cache) returns dx, dW, db of the affine layer."""

    name = "affine_backward"
    functions = ("affine_forward", "affine_backward")

    def cases(self, rng):
        return _affine_cases(rng)

    def run(self, fns, c):
        fwd, bwd = fns
        res = call(fwd, c["x"].copy(), c["W"].copy(), c["b"].copy(), what="affine_forward")
        out, cache = unpack(res, 2, "affine_forward", "out, cache")
        res = call(bwd, c["dout"].copy(), cache, what="affine_backward")
        dx, dW, db = unpack(res, 3, "affine_backward", "dx, dW, db")
        o = {"out": out, "dx": dx, "dW": dW, "db": db}
        if c["x"].dtype == np.float64:
            x, W, b = c["x"].copy(), c["W"].copy(), c["b"].copy()

            def f():
                return unpack(call(fwd, x, W, b, what="affine_forward"), 2, "affine_forward",
                              "out, cache")[0]

            for k, v in (("dx", x), ("dW", W), ("db", b)):
                o["num_" + k] = numeric_grad(f, v, c["dout"])
        return o

    def judge(self, c, o):
        x, W, b, dout = (c[k].astype(np.float64) for k in ("x", "W", "b", "dout"))
        N = x.shape[0]
        dt = c["x"].dtype.name
        msg = compare("out (from your affine_forward)", o["out"], x @ W + b, dt)
        if msg:
            return False, msg + " -- fix affine_forward first"
        square = W.shape[0] == W.shape[1]
        want = {"dx": dout @ W.T, "dW": x.T @ dout, "db": dout.sum(axis=0)}
        alts = {
            "dx": [("dout @ W: W needs a transpose, dx = dout @ W.T",
                    dout @ W if square else None)],
            "dW": [("dout.T @ x: the transpose of dW", (dout.T @ x) if square else None)],
            "db": [("db averages dout over the batch; it is the SUM over axis 0",
                    dout.mean(axis=0))],
        }
        for k in ("dx", "dW", "db"):
            msg = compare(k, o[k], want[k], dt, n=N, alts=alts[k])
            if msg:
                return False, msg
        for k in ("dx", "dW", "db"):
            if "num_" + k in o:
                msg = _numeric_msg(k, o[k], o["num_" + k], "affine_forward")
                if msg:
                    return False, msg
        return True, ""


def _act_layer_alts(name, z, dout):
    a = _ref("activations")
    f = {"relu": a.relu, "sigmoid": a.sigmoid, "tanh": a.tanh}[name]
    alts = [(label, None if g is None else dout * g)
            for label, g in _wrong_derivatives(name, z, f, "local derivative")]
    alts.append(("dout * f(z): multiplied by the activation instead of its derivative",
                 dout * f(z)))
    alts.append(("returned dout unchanged: the activation's derivative is missing", dout))
    alts.append(("the local derivative alone: multiply it by dout (the chain rule)",
                 dict(relu=a.relu_grad, sigmoid=a.sigmoid_grad, tanh=a.tanh_grad)[name](z)))
    return alts


class _ActivationLayer(Check):
    """forward(z) -> (out, cache) and backward(dout, cache) -> dz of an activation."""

    functions = ("forward", "backward")

    def cases(self, rng):
        out = []
        for k in range(5):
            dtype = np.float64 if k < 3 else _dtype(rng)
            N, H = int(rng.integers(2, 7)), int(rng.integers(2, 7))
            z = rng.standard_normal((N, H)) * 2
            z = np.where(np.abs(z) < 1e-2, 0.5, z).astype(dtype)
            dout = rng.standard_normal((N, H)).astype(dtype)
            out.append(dict(z=z, dout=dout, info=dict(N=N, H=H, dtype=np.dtype(dtype).name)))
        return out

    def run(self, fns, c):
        fwd, bwd = fns
        n1, n2 = f"{self.key}_forward", f"{self.key}_backward"
        out, cache = unpack(call(fwd, c["z"].copy(), what=n1), 2, n1, "out, cache")
        dz = call(bwd, c["dout"].copy(), cache, what=n2)
        o = {"out": out, "dz": dz}
        if c["z"].dtype == np.float64:
            h = 1e-6
            fp = arr(unpack(call(fwd, c["z"] + h, what=n1), 2, n1, "out, cache")[0], n1)
            fm = arr(unpack(call(fwd, c["z"] - h, what=n1), 2, n1, "out, cache")[0], n1)
            if fp.shape == c["z"].shape and fm.shape == fp.shape:
                o["num_dz"] = (fp - fm) / (2 * h) * c["dout"]
        return o

    def judge(self, c, o):
        a = _ref("activations")
        f, g = {"relu": (a.relu, a.relu_grad), "sigmoid": (a.sigmoid, a.sigmoid_grad),
                "tanh": (a.tanh, a.tanh_grad)}[self.key]
        z, dout = c["z"].astype(np.float64), c["dout"].astype(np.float64)
        dt = c["z"].dtype.name
        msg = compare(f"out (from your {self.key}_forward)", o["out"], f(z), dt)
        if msg:
            return False, msg + f" -- fix {self.key}_forward first"
        msg = compare("dz", o["dz"], dout * g(z), dt, alts=_act_layer_alts(self.key, z, dout))
        if not msg and "num_dz" in o:
            msg = _numeric_msg("dz", o["dz"], o["num_dz"], f"{self.key}_forward")
        return msg is None, msg or ""


@register
class ReluBackward(_ActivationLayer):
    """relu_forward / relu_backward: dz = dout where z > 0, else 0."""

    name, key = "relu_backward", "relu"


@register
class SigmoidBackward(_ActivationLayer):
    """sigmoid_forward / sigmoid_backward: dz = dout * s * (1 - s)."""

    name, key = "sigmoid_backward", "sigmoid"


@register
class TanhBackward(_ActivationLayer):
    """tanh_forward / tanh_backward: dz = dout * (1 - t**2)."""

    name, key = "tanh_backward", "tanh"


@register
class MlpBackward(Check):
    """mlp_forward / mlp_backward: gradients of every W and b for networks of any depth."""

    name = "mlp_backward"
    functions = ("mlp_forward", "mlp_backward")

    def cases(self, rng):
        out = []
        plan = [(2, "relu", np.float64), (3, "tanh", np.float64), (1, "sigmoid", np.float64)]
        for _ in range(3):
            plan.append((int(rng.integers(1, 6)), str(rng.choice(["relu", "sigmoid", "tanh"])),
                         _dtype(rng)))
        for L, act, dtype in plan:
            N = int(rng.integers(2, 6))
            sizes = [int(s) for s in rng.integers(2, 6, L + 1)]
            for _ in range(100):  # ReLU: keep every pre-activation away from the kink
                X = rng.standard_normal((N, sizes[0]))
                params, h, gap = {}, X, np.inf
                for i in range(1, L + 1):
                    params[f"W{i}"] = rng.standard_normal((sizes[i - 1], sizes[i])) / np.sqrt(
                        sizes[i - 1]) * 1.5
                    params[f"b{i}"] = rng.standard_normal(sizes[i]) * 0.5
                    z = h @ params[f"W{i}"] + params[f"b{i}"]
                    if i < L:
                        gap = min(gap, float(np.min(np.abs(z))))
                    h = np.maximum(z, 0)
                if act != "relu" or gap > 1e-3:
                    break
            dscores = rng.standard_normal((N, sizes[-1])) / N
            out.append(dict(X=X.astype(dtype), params={k: v.astype(dtype) for k, v in
                                                       params.items()},
                            act=act, dscores=dscores.astype(dtype),
                            info=dict(L=L, activation=act, sizes=sizes, N=N,
                                      dtype=np.dtype(dtype).name)))
        return out

    def run(self, fns, c):
        fwd, bwd = fns
        P = {k: v.copy() for k, v in c["params"].items()}
        scores, cache = unpack(call(fwd, c["X"].copy(), P, c["act"], what="mlp_forward"), 2,
                               "mlp_forward", "scores, cache")
        grads = call(bwd, c["dscores"].copy(), cache, what="mlp_backward")
        if not isinstance(grads, dict):
            raise StudentError(f"mlp_backward must return a dict of gradients, got "
                               f"{type(grads).__name__}")
        o = {"scores": scores}
        for k in c["params"]:
            if k in grads:
                o["grad_" + k] = grads[k]
        if c["X"].dtype == np.float64:
            X = c["X"].copy()
            P = {k: v.copy() for k, v in c["params"].items()}

            def f():
                return unpack(call(fwd, X, P, c["act"], what="mlp_forward"), 2, "mlp_forward",
                              "scores, cache")[0]

            for k in P:
                o["num_" + k] = numeric_grad(f, P[k], c["dscores"])
        return o

    def judge(self, c, o):
        X = c["X"].astype(np.float64)
        P = {k: v.astype(np.float64) for k, v in c["params"].items()}
        d = c["dscores"].astype(np.float64)
        act = c["act"]
        L = len(P) // 2
        N = X.shape[0]
        dt = c["X"].dtype.name
        scores, grads = _reference().mlp(X, P, act, d)
        msg = compare("scores (from your mlp_forward)", o["scores"], scores, dt)
        if msg:
            return False, msg + " -- fix mlp_forward first"
        variants = [(f"the backward pass skipped the {act} derivative of hidden layer {i}",
                     _reference().mlp(X, P, act, d, ("skip", i))[1]) for i in range(1, L)]
        variants.append((f"the {act} derivative was evaluated at the layer's output h instead "
                         "of its input z", _reference().mlp(X, P, act, d, "at_output")[1]))
        right = []
        for i in range(L, 0, -1):
            for k in (f"W{i}", f"b{i}"):
                got = o.get("grad_" + k)
                if got is None:
                    return False, f"the gradients have no entry {k!r}"
                alts = [(label, g[k]) for label, g in variants]
                msg = compare(f"d{k} (layer {i} of {L})", got, grads[k], dt, n=N, alts=alts)
                if msg:
                    if right:
                        msg += f"; {', '.join(right)} are right, so the mistake enters " \
                               f"between layer {i + 1 if i < L else L} and layer {i}"
                    return False, msg
                right.append("d" + k)
        for k in P:
            if "num_" + k in o:
                msg = _numeric_msg("d" + k, o["grad_" + k], o["num_" + k], "mlp_forward")
                if msg:
                    return False, msg
        return True, ""


def _fn_value(kind, A, x):
    if kind == "cubic":
        return float(np.sum(A * x ** 3) + np.sum(x) ** 2)
    if kind == "sin":
        return float(np.sum(np.sin(A * x)) * 3 + np.sum(x * x))
    m = np.max(A * x)
    return float(m + np.log(np.sum(np.exp(A * x - m)))) * 5


@register
class NumericalGradient(Check):
    """numerical_gradient(f, x) by central differences, leaving x unchanged."""

    name = "numerical_gradient"
    functions = ("numerical_gradient",)

    def cases(self, rng):
        out = []
        for k, kind in enumerate(["cubic", "sin", "lse", "cubic", "sin"]):
            shape = (int(rng.integers(2, 6)),) if k % 2 else \
                (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
            x = rng.uniform(-2, 2, shape)
            A = rng.uniform(1, 4, shape)
            out.append(dict(x=x, A=A, kind=kind, info=dict(f=kind, shape=shape)))
        return out

    def run(self, fns, c):
        x = c["x"].copy()
        A, kind = c["A"], c["kind"]
        g = call(fns[0], lambda v: _fn_value(kind, A, v), x, what="numerical_gradient")
        return {"grad": g, "x_after": x}

    def judge(self, c, o):
        x, A, kind = c["x"], c["A"], c["kind"]
        if o["x_after"].shape != x.shape or not np.allclose(o["x_after"], x, rtol=0, atol=1e-12):
            return False, "numerical_gradient changed x: put back x[i] after each evaluation"
        want = _reference().smooth_function_grad(kind, A, x)
        h = 1e-5
        fwd = np.zeros_like(x)
        f0 = _fn_value(kind, A, x)
        for i in np.ndindex(x.shape):
            xp = x.copy()
            xp[i] += h
            fwd[i] = (_fn_value(kind, A, xp) - f0) / h
        alts = [("a one-sided difference (f(x + h) - f(x)) / h, whose error is O(h); use "
                 "central differences (f(x + h) - f(x - h)) / 2h", fwd)]
        got = o["grad"]
        if got.shape == x.shape and np.all(np.isfinite(got)) and rel_error(got, fwd) < 1e-3 \
                and rel_error(got, want) > 1e-7:
            return False, (f"the gradient is off by {rel_error(got, want):.1e}; likely: "
                           + alts[0][0])
        ratio_hint = ""
        if got.shape == x.shape and _close(got, 2 * want, 1e-5):
            ratio_hint = "; twice too large: divide by 2h, not h"
        elif got.shape == x.shape and _close(got, want / 2, 1e-5):
            ratio_hint = "; half the gradient: divide by 2h, not 4h"
        msg = compare("the numerical gradient", got, want, tol=1e-6)
        return msg is None, (msg + ratio_hint) if msg else ""


# -------------------------------------------------------------- a4: training, depth

@register
class MomentumStep(Check):
    """momentum_step(w, dw, v, lr, beta): v <- beta v - lr dw; w <- w + v, over several steps."""

    name = "momentum_step"
    functions = ("momentum_step",)

    def cases(self, rng):
        out = []
        for k in range(4):
            shape = (int(rng.integers(2, 6)),) if k % 2 else \
                (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
            dtype = np.float64 if k < 3 else _dtype(rng)
            out.append(dict(w=rng.standard_normal(shape).astype(dtype),
                            A=rng.uniform(0.5, 2.0, shape).astype(dtype),
                            lr=float(rng.choice([0.05, 0.1, 0.2])),
                            beta=float(rng.choice([0.5, 0.8, 0.9])), steps=5,
                            info=dict(shape=shape, dtype=np.dtype(dtype).name)))
        return out

    def run(self, fns, c):
        w, v = c["w"].copy(), np.zeros_like(c["w"])
        ws, vs = [], []
        for _ in range(c["steps"]):
            res = call(fns[0], w.copy(), c["A"] * w, v.copy(), c["lr"], c["beta"],
                       what="momentum_step")
            w, v = unpack(res, 2, "momentum_step", "w, v")
            w, v = arr(w, "w"), arr(v, "v")
            ws.append(w)
            vs.append(v)
            if w.shape != c["w"].shape or v.shape != c["w"].shape:
                break
        return {"ws": np.array(ws) if len({x.shape for x in ws}) == 1 else ws[0],
                "vs": np.array(vs) if len({x.shape for x in vs}) == 1 else vs[0]}

    def judge(self, c, o):
        w0, A, lr, beta, S = (c[k] for k in ("w", "A", "lr", "beta", "steps"))
        w0, A = w0.astype(np.float64), A.astype(np.float64)
        dt = c["w"].dtype.name
        ws, vs = _reference().momentum_trajectory(w0, lambda w: A * w, np.zeros_like(w0), lr,
                                                  beta, S)
        wrong = []
        # v <- beta v + lr g; w <- w + v (ascent)
        v, w, a_ws = np.zeros_like(w0), w0, []
        for _ in range(S):
            v = beta * v + lr * A * w
            w = w + v
            a_ws.append(w)
        wrong.append(("the parameters move uphill: a sign error in v = beta v - lr dw or in "
                      "w = w + v", np.array(a_ws)))
        v, w, c_ws = np.zeros_like(w0), w0, []
        for _ in range(S):
            g = A * w
            w = w + v
            v = beta * v - lr * g
            c_ws.append(w)
        wrong.append(("w is updated with the old velocity: update v first, then w += v",
                      np.array(c_ws)))
        gd = [w0]
        for _ in range(S):
            gd.append(gd[-1] - lr * A * gd[-1])
        wrong.append(("plain gradient descent: the velocity (beta v) is not carried over",
                      np.array(gd[1:])))
        msg = compare(f"w over {S} steps", o["ws"], ws, dt, alts=wrong)
        if msg:
            return False, msg
        alts = [("v is -lr times the expected: this assignment uses v <- beta v - lr dw, "
                 "not v <- beta v + dw", vs / -lr)]
        msg = compare(f"v over {S} steps", o["vs"], vs, dt, alts=alts)
        return msg is None, msg or ""


@register
class Minibatches(Check):
    """minibatch_indices(N, batch_size, rng): shuffled batches covering every example once."""

    name = "minibatches"
    functions = ("minibatch_indices",)

    def cases(self, rng):
        out = []
        for N, B in ((20, 5), (23, 4), (int(rng.integers(30, 60)), int(rng.integers(3, 9))),
                     (7, 10)):
            out.append(dict(N=N, B=B, seed=int(rng.integers(2**31)), info=dict(N=N,
                                                                                batch_size=B)))
        return out

    def run(self, fns, c):
        res = call(fns[0], c["N"], c["B"], np.random.default_rng(c["seed"]),
                   what="minibatch_indices")
        batches = [arr(b, "a batch") for b in list(res)]
        return {"indices": np.concatenate([b.reshape(-1) for b in batches]) if batches
                else np.zeros(0, int), "sizes": np.array([b.size for b in batches])}

    def judge(self, c, o):
        N, B = c["N"], c["B"]
        idx, sizes = o["indices"].astype(np.int64), o["sizes"]
        want_sizes = [B] * (N // B) + ([N % B] if N % B else [])
        if len(idx) < N and sorted(set(idx.tolist())) == sorted(idx.tolist()) and \
                list(sizes) == [B] * (N // B):
            return False, (f"the batches cover {len(idx)} of the {N} examples: the last, "
                           "shorter batch is missing")
        if sorted(idx.tolist()) != list(range(N)):
            missing = N - len(set(idx.tolist()) & set(range(N)))
            return False, f"the batches must hold every index 0..N-1 exactly once " \
                          f"({missing} missing, {len(idx) - len(set(idx.tolist()))} repeated)"
        if list(sizes) != want_sizes:
            return False, f"batch sizes {list(sizes)}, expected {want_sizes}"
        if N >= 20 and np.array_equal(idx, np.arange(N)):
            return False, "the examples are not shuffled: use rng.permutation(N)"
        return True, ""


TARGET_ACCURACY = 0.93


@register
class TrainDigits(Check):
    """train_digits(X_train, y_train): a ReLU MLP reaching the target validation accuracy."""

    name = "train_digits"
    functions = ("train_digits",)

    def cases(self, rng):
        from course.data import digits, split

        X, y = digits(seed=0)
        Xtr, ytr, Xva, yva, _, _ = split(X, y, (0.6, 0.2, 0.2), seed=int(rng.integers(2**31)))
        return [dict(X=Xtr, y=ytr, Xval=Xva, yval=yva,
                     info=dict(N_train=len(Xtr), N_val=len(Xva)))]

    def run(self, fns, c):
        params = call(fns[0], c["X"].copy(), c["y"].copy(), what="train_digits")
        if not isinstance(params, dict):
            raise StudentError("train_digits must return the dict of parameters W1, b1, ...")
        return {k: v for k, v in params.items() if isinstance(k, str) and k[:1] in "Wb"}

    def judge(self, c, o):
        L = len([k for k in o if k.startswith("W")])
        if L == 0 or any(f"{p}{i}" not in o for i in range(1, L + 1) for p in "Wb"):
            return False, "the parameters must be W1, b1, ..., WL, bL"
        try:
            scores = _reference().relu_mlp_scores(
                c["Xval"], {k: v.astype(np.float64) for k, v in o.items()})
        except Exception as e:
            return False, f"the parameters do not form a network from 64 inputs to 10 " \
                          f"classes ({e})"
        if scores.shape != (len(c["Xval"]), 10):
            return False, f"the network gives scores of shape {scores.shape}, expected " \
                          f"(N, 10)"
        acc = float(np.mean(np.argmax(scores, axis=1) == c["yval"]))
        if not np.isfinite(scores).all() or acc < TARGET_ACCURACY:
            return False, (f"validation accuracy {acc:.3f}, below the target "
                           f"{TARGET_ACCURACY}: train longer, or tune the learning rate")
        return True, f"validation accuracy {acc:.3f}"


@register
class LayerGradientNorms(Check):
    """layer_gradient_norms(X, y, params, activation): ||dW_l|| for every layer, layer 1 first."""

    name = "layer_gradient_norms"
    functions = ("layer_gradient_norms",)

    def cases(self, rng):
        out = []
        for L, act in ((6, "sigmoid"), (int(rng.integers(3, 9)), str(rng.choice(
                ["sigmoid", "tanh", "relu"])))):
            N, D, H, C = int(rng.integers(4, 12)), int(rng.integers(3, 8)), \
                int(rng.integers(4, 10)), int(rng.integers(2, 5))
            sizes = [D] + [H] * (L - 1) + [C]
            params = {}
            for i in range(1, L + 1):
                params[f"W{i}"] = rng.standard_normal((sizes[i - 1], sizes[i])) / np.sqrt(
                    sizes[i - 1])
                params[f"b{i}"] = np.zeros(sizes[i])
            out.append(dict(X=rng.standard_normal((N, D)), y=rng.integers(0, C, N),
                            params=params, act=act, info=dict(L=L, activation=act)))
        return out

    def run(self, fns, c):
        P = {k: v.copy() for k, v in c["params"].items()}
        return {"norms": call(fns[0], c["X"].copy(), c["y"].copy(), P, c["act"],
                              what="layer_gradient_norms")}

    def judge(self, c, o):
        L_ = _ref("losses")
        scores, _ = _reference().mlp(c["X"], c["params"], c["act"], None)
        _, d = L_.softmax_cross_entropy(scores, c["y"])
        _, grads = _reference().mlp(c["X"], c["params"], c["act"], d)
        L = len(c["params"]) // 2
        want = np.array([np.linalg.norm(grads[f"W{i}"]) for i in range(1, L + 1)])
        got = o["norms"].reshape(-1) if o["norms"].size == L else o["norms"]
        alts = [("the order is reversed: layer 1 (next to the input) comes first", want[::-1])]
        msg = compare("the array of norms", got, want, alts=alts, tol=1e-6)
        return msg is None, msg or ""


from autograder import checks_a5  # noqa: E402,F401  the checks of a5_autodiff

__all__ = ["CHECKS", "Check", "StudentError", "call", "compare", "diagnose", "kernel_seed",
           "case_rng", "record_key", "record_path", "write_record", "load_record"] + list(CHECKS)
