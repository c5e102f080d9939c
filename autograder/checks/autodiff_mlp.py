"""The MLP of a5_autodiff seen from the checks: parameters in order, outputs, training.

``mlp_scores`` computes the outputs with plain floats (the judge) or with a Value class
(a graph); the parameters are listed layer by layer, neuron by neuron, each neuron's
weights then its bias, as ``MLP.parameters()`` must list them.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.autodiff_judge import close, engine, fmt
from autograder.checks.autodiff_programs import number
from autograder.checks.guard import StudentError

__all__ = ["n_params", "mlp_scores", "set_parameters", "outputs_of", "mlp_cases",
           "hinge_trajectory", "accuracy", "judge_train_step", "judge_train_xor", "xor_cases",
           "train_step_cases", "run_train_step", "judge_train_step_apart",
           "TARGET_ACCURACY", "XOR_NOISE", "N_TRAIN", "N_VAL", "LABELLINGS"]


def n_params(nin, nouts):
    """Number of parameters of an MLP: every neuron has one weight per input and a bias."""
    sizes = [nin] + list(nouts)
    return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))


def mlp_scores(flat, nin, nouts, X, V=float, last_tanh=False, bias_first=False):
    """Outputs of the MLP with parameters listed layer by layer, neuron by neuron,
    weights then bias; V is float (numbers) or a Value class (a graph)."""
    flat = list(flat)
    sizes = [nin] + list(nouts)
    layers, k = [], 0
    for i in range(len(nouts)):
        neurons = []
        for _ in range(sizes[i + 1]):
            chunk = flat[k:k + sizes[i] + 1]
            k += sizes[i] + 1
            w, b = (chunk[1:], chunk[0]) if bias_first else (chunk[:-1], chunk[-1])
            neurons.append((w, b))
        layers.append(neurons)
    tanh = math.tanh if V is float else (lambda v: v.tanh())
    outs = []
    for x in X:
        h = [V(float(v)) if V is not float else float(v) for v in x]
        for i, neurons in enumerate(layers):
            z = []
            for w, b in neurons:
                act = b
                for wi, hi in zip(w, h):
                    act = act + wi * hi
                z.append(tanh(act) if (i < len(layers) - 1 or last_tanh) else act)
            h = z
        outs.append(h)
    return outs


def set_parameters(model, flat, nin, nouts):
    ps = list(model.parameters())
    want = n_params(nin, nouts)
    if len(ps) != want:
        raise StudentError(f"MLP({nin}, {list(nouts)}).parameters() returns {len(ps)} values, "
                           f"expected {want}: every neuron has one weight per input and a "
                           "bias")
    for p, v in zip(ps, flat):
        p.data = float(v)
        p.grad = 0.0
    return ps


def outputs_of(y, C):
    ys = y if isinstance(y, (list, tuple)) else [y]
    if len(ys) != C:
        raise StudentError(f"the MLP returns {len(ys)} outputs, expected {C}")
    return ys


def mlp_cases(rng):
    out = []
    for nin, nouts in ((2, [3, 1]), (3, [4, 4, 1]), (int(rng.integers(2, 5)), [3, 2])):
        P = n_params(nin, nouts)
        out.append(dict(nin=nin, nouts=nouts, flat=rng.uniform(-1, 1, P),
                        X=rng.uniform(-1.5, 1.5, (3, nin)), r=rng.uniform(-1, 1, (3, nouts[-1])),
                        info=dict(nin=nin, nouts=nouts)))
    return out


def hinge_trajectory(flat, nin, nouts, X, y, lr, steps, mistake=None):
    """Losses and parameters of gradient descent on the mean hinge loss (trusted engine)."""
    V = engine().Value
    flat = np.array(flat, dtype=np.float64)
    acc = np.zeros_like(flat)
    losses, params = [], []
    for _ in range(steps):
        ps = [V(float(v)) for v in flat]
        outs = mlp_scores(ps, nin, nouts, X, V=V)
        terms = [(1 - float(t) * o[0]).relu() for o, t in zip(outs, y)]
        loss = sum(terms[1:], terms[0])
        if mistake != "sum":
            loss = loss * (1.0 / len(terms))
        loss.backward()
        g = np.array([p.grad for p in ps])
        acc = acc + g if mistake == "no_zero_grad" else g
        flat = flat + lr * acc if mistake == "ascent" else flat - lr * acc
        losses.append(loss.data)
        params.append(flat.copy())
    return np.array(losses), np.array(params)


def accuracy(scores, y) -> float:
    """The fraction of the scores that have the sign of their label in y."""
    return float(np.mean(np.where(scores > 0, 1.0, -1.0) == y))


TARGET_ACCURACY = 0.9
XOR_NOISE = 0.15
N_TRAIN, N_VAL = 60, 100
# Two labellings of the same four corners, one per call: the visible check gives XNOR
# labels, the hidden one XOR labels. A train_xor that learns XOR whatever it is given (from
# data of its own, or from labels it computes from X) fails the visible one, and one that
# learns XNOR whatever it is given fails the hidden one.
LABELLINGS = {"XNOR": -1.0, "XOR": 1.0}  # sign of y: +1 where the signs differ, agree


def train_step_cases(rng):
    """Two small networks, a batch and a learning rate each, from given parameters."""
    out = []
    for nin, nouts, N in ((2, [4, 1], 6), (3, [3, 3, 1], int(rng.integers(5, 10)))):
        X = rng.uniform(-1.5, 1.5, (N, nin))
        y = rng.choice([-1.0, 1.0], N)
        out.append(dict(nin=nin, nouts=nouts, flat=rng.uniform(-1, 1, n_params(nin, nouts)),
                        X=X, y=y, lr=float(rng.choice([0.05, 0.1, 0.2])),
                        info=dict(nin=nin, nouts=nouts, N=N)))
    return out


PROBE_GRAD = 7.0  # the grad every parameter holds before the probe's step


def run_train_step(M, step, case, steps):
    """Run a student's train_step ``steps`` times from the case's parameters (in the kernel).

    Records the loss it returns, the parameters and their grads after each step; then two
    probe steps with a learning rate of 0, the first with every grad set to PROBE_GRAD
    before, the second with every grad 0: the grads after them are equal exactly when
    train_step resets the grads before its backward pass."""
    model = M(case["nin"], list(case["nouts"]))
    ps = set_parameters(model, case["flat"], case["nin"], case["nouts"])
    X = [[float(v) for v in x] for x in case["X"]]
    y = [float(t) for t in case["y"]]
    losses, params, grads, probe = [], [], [], []
    for _ in range(steps):
        losses.append(number(step(model, X, y, case["lr"]), "the loss train_step returns"))
        params.append([number(p.data, "a parameter") for p in ps])
        grads.append([number(p.grad, "a parameter's grad") for p in ps])
    for before in (PROBE_GRAD, 0.0):
        for p in ps:
            p.grad = before
        step(model, X, y, 0.0)
        probe.append([number(p.grad, "a parameter's grad") for p in ps])
    return {"losses": np.array(losses), "params": np.array(params),
            "grads": np.array(grads), "probe": np.array(probe)}


def judge_train_step_apart(case, outputs, steps):
    """Judge train_step with the gradients the student's own Value gave (when an earlier
    check found them wrong): the first loss, the update p.data -= lr * p.grad of every
    step, and the reset of the grads. Return (ok, what was judged or what is wrong)."""
    losses, _ = hinge_trajectory(case["flat"], case["nin"], case["nouts"], case["X"],
                                 case["y"], case["lr"], steps)
    if not close(outputs["losses"][:1], losses[:1], 1e-7):
        return False, "the first loss is wrong"
    before = np.vstack([np.asarray(case["flat"], float)[None], outputs["params"][:-1]])
    if not close(outputs["params"], before - case["lr"] * outputs["grads"], 1e-7):
        return False, "the update is not p.data -= lr * p.grad"
    if not close(outputs["probe"][0], outputs["probe"][1], 1e-9):
        return False, "the gradients are not reset before backward()"
    return True, "the loss, the update and the reset of the gradients are right"


def judge_train_step(case, outputs, steps):
    """Judge ``steps`` calls of a student's train_step against hinge_trajectory."""
    args = (case["flat"], case["nin"], case["nouts"], case["X"], case["y"], case["lr"],
            steps)
    losses, params = hinge_trajectory(*args)
    if outputs["params"].shape != params.shape:
        return False, f"the parameters have shape {outputs['params'].shape}, expected " \
                      f"{params.shape}"
    alts = (("no_zero_grad", "the gradients are not reset between two backward calls: "
                             "call model.zero_grad() before loss.backward()"),
            ("ascent", "the update goes uphill: p.data -= lr * p.grad"),
            ("sum", "the loss is the sum of the hinge terms; it must be their mean"))
    for k in range(steps):
        if close(outputs["params"][k], params[k], 1e-7):
            continue
        msg = f"the parameters after step {k + 1} of {steps} are wrong"
        if k:
            msg += f" (step{'s 1 to' if k > 1 else ''} {k} right)"
        for mistake, label in alts:
            _, wrong = hinge_trajectory(*args, mistake=mistake)
            if close(outputs["params"], wrong, 1e-7):
                return False, msg + "; likely: " + label
        if not close(outputs["losses"][:1], losses[:1], 1e-7):
            msg += (f"; the first loss is {fmt(outputs['losses'][0])}, expected "
                    f"{fmt(losses[0])}: the mean of relu(1 - y_i * model(x_i))")
        elif not k:
            msg += ("; the loss is right, so its gradients or the update p.data -= lr * "
                    "p.grad are wrong (see the checks of Value)")
        return False, msg
    if not close(outputs["losses"], losses, 1e-7):
        return False, (f"train_step returns the losses {np.round(outputs['losses'], 6)}, "
                       f"expected {np.round(losses, 6)}: the loss before the update")
    return True, ""


def xor_cases(rng, labels):
    """train_xor's case: N_TRAIN points with the given labels (XOR or XNOR), and N_VAL
    held-out points labelled alike."""
    from course.data import xor

    X, y = xor(n=N_TRAIN + N_VAL, noise=XOR_NOISE, seed=int(rng.integers(2**31)))
    X, y = X - 0.5, LABELLINGS[labels] * (2.0 * y - 1.0)  # corners (+-0.5, +-0.5), +-1
    return [dict(X=X[:N_TRAIN], y=y[:N_TRAIN], Xval=X[N_TRAIN:], yval=y[N_TRAIN:],
                 info=dict(labels=labels, N_train=N_TRAIN, N_val=N_VAL))]


def judge_train_xor(case, outputs):
    """Judge the MLP a student's train_xor returned on held-out points."""
    nin, nouts = int(outputs["nin"]), [int(v) for v in outputs["nouts"]]
    if nin != 2 or not nouts or nouts[-1] != 1 or \
            outputs["flat"].shape != (n_params(nin, nouts),):
        return False, (f"train_xor must return an MLP(2, [..., 1]); got {nin} inputs, "
                       f"layers {nouts} and {outputs['flat'].size} parameters")
    scores, train_scores = (np.array(mlp_scores(outputs["flat"], nin, nouts, X))[:, 0]
                            for X in (case["Xval"], case["X"]))
    if not (np.isfinite(scores).all() and np.isfinite(train_scores).all()):
        return False, ("the model's scores are not finite numbers: lower the learning "
                       "rate")
    acc = accuracy(scores, case["yval"])
    if acc >= TARGET_ACCURACY:
        return True, f"accuracy {acc:.3f} on the {N_VAL} points it did not see"
    fit = accuracy(train_scores, case["y"])
    msg = f"validation accuracy {acc:.3f}, below the target {TARGET_ACCURACY}"
    if fit <= 1 - TARGET_ACCURACY:
        return False, (f"{msg}: the model predicts the opposite of the labels y it was "
                       f"given (it gets {fit:.3f} of its {N_TRAIN} training points "
                       "right); train_xor must learn from the X and y passed to it, "
                       "not from XOR data or labels of its own")
    if fit < TARGET_ACCURACY:
        return False, (f"{msg}: the model does not fit the {N_TRAIN} points X, y it was "
                       f"given ({fit:.3f} of them right); train on the X and y passed "
                       "to train_xor, train longer, or tune the learning rate")
    return False, f"{msg}: train longer, or tune the learning rate"
