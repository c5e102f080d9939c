"""Each recognisable mistake produces its diagnosis in the failure message.

Every buggy function below is a plausible student answer with one mistake; the test
asserts that the check fails AND names the quantity and the likely mistake.
"""

import numpy as np
import pytest

from autograder import checks


@pytest.fixture(autouse=True)
def interactive(monkeypatch):
    for k in (checks.RECORD_ENV, checks.SEED_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)


def failure(check, *fns, hidden=False):
    with pytest.raises(AssertionError) as info:
        check(*fns, hidden=hidden)
    return str(info.value)


def sig(z):
    return 1 / (1 + np.exp(-z))


def affine_forward(x, W, b):
    return x @ W + b, (x, W)


def log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def ce(scores, y, scale=1.0, sign=1.0):
    N = len(scores)
    lp = log_softmax(scores)
    d = np.exp(lp)
    d[np.arange(N), y] -= 1
    return -lp[np.arange(N), y].mean(), sign * d / N * scale


# ------------------------------------------------------------------ transposes

def test_missing_transpose_in_dx_is_named():
    def bwd(dout, cache):
        x, W = cache
        return dout @ W, x.T @ dout, dout.sum(axis=0)

    msg = failure(checks.affine_backward, affine_forward, bwd)
    assert "dx is wrong" in msg and "W needs a transpose" in msg
    assert "max abs error" in msg


def test_transposed_dW_shape_is_named():
    def bwd(dout, cache):
        x, W = cache
        return dout @ W.T, dout.T @ x, dout.sum(axis=0)

    msg = failure(checks.affine_backward, affine_forward, bwd)
    assert "dW" in msg and "transpose" in msg


def test_db_not_summed_over_the_batch_is_named():
    def bwd(dout, cache):
        x, W = cache
        return dout @ W.T, x.T @ dout, dout

    assert "sum over the batch (axis 0)" in failure(checks.affine_backward, affine_forward, bwd)


# -------------------------------------------------------------------- the 1/N

def test_missing_one_over_n_is_named():
    msg = failure(checks.softmax_cross_entropy, lambda s, y: ce(s, y, scale=len(s)))
    assert "dscores is wrong" in msg and "without the 1/N" in msg


def test_doubled_one_over_n_is_named():
    msg = failure(checks.softmax_cross_entropy, lambda s, y: ce(s, y, scale=1 / len(s)))
    assert "= 1/N" in msg and "divided by N twice" in msg


def test_extra_mean_in_a_sum_is_named():
    def bwd(dout, cache):
        x, W = cache
        return dout @ W.T, x.T @ dout / len(x), dout.sum(axis=0)

    msg = failure(checks.affine_backward, affine_forward, bwd)
    assert "dW is wrong" in msg and "= 1/N" in msg


# ------------------------------------------------------------------- the sign

def test_wrong_sign_is_named():
    msg = failure(checks.softmax_cross_entropy, lambda s, y: ce(s, y, sign=-1.0))
    assert "wrong sign" in msg


def test_momentum_sign_error_is_named():
    def step(w, dw, v, lr, beta):
        v = beta * v + lr * dw
        return w + v, v

    assert "uphill" in failure(checks.momentum_step, step)


# ---------------------------------------------------------- activation mistakes

def test_derivative_of_the_wrong_activation_is_named():
    def tanh_grad(z):
        return sig(z) * (1 - sig(z))

    msg = failure(checks.tanh, np.tanh, tanh_grad)
    assert "tanh_grad(z) is wrong" in msg and "derivative of sigmoid, not of tanh" in msg


def test_sigmoid_derivative_without_one_minus_s_is_named():
    msg = failure(checks.sigmoid, sig, sig)
    assert "s * (1 - s)" in msg


def test_backward_applied_to_the_cached_output_is_named():
    def fwd(z):
        s = sig(z)
        return s, s

    def bwd(dout, cache):  # treats the cached output as the input z
        return dout * sig(cache) * (1 - sig(cache))

    msg = failure(checks.sigmoid_backward, fwd, bwd)
    assert "evaluated at the output f(z) instead of the input z" in msg


def test_wrong_leaky_slope_is_named():
    def leaky(z, alpha=0.1):
        return np.where(z > 0, z, alpha * z)

    def leaky_grad(z, alpha=0.01):
        return np.where(z > 0, 1.0, alpha)

    assert "slope for z < 0 is 0.1, it should be 0.01" in failure(checks.leaky_relu, leaky,
                                                                  leaky_grad)


def test_mlp_backward_skipping_an_activation_names_the_layer():
    def fwd(X, params, act):
        L = len(params) // 2
        h, hs, zs = X, [X], []
        for i in range(1, L + 1):
            z = h @ params[f"W{i}"] + params[f"b{i}"]
            zs.append(z)
            h = z if i == L else {"relu": np.maximum(z, 0), "tanh": np.tanh(z),
                                  "sigmoid": sig(z)}[act]
            hs.append(h)
        return h, (hs, zs, params, act)

    def bwd(dscores, cache):
        hs, zs, params, act = cache
        L = len(zs)
        grads, dz = {}, dscores
        for i in range(L, 0, -1):
            grads[f"W{i}"] = hs[i - 1].T @ dz
            grads[f"b{i}"] = dz.sum(axis=0)
            if i > 1:
                dh = dz @ params[f"W{i}"].T
                z = zs[i - 2]
                local = {"relu": z > 0, "tanh": 1 - np.tanh(z) ** 2,
                         "sigmoid": sig(z) * (1 - sig(z))}[act]
                dz = dh if i == L else dh * local  # skips the last hidden activation
        return grads

    msg = failure(checks.mlp_backward, fwd, bwd)
    assert "(layer 1 of 2)" in msg
    assert "skipped the relu derivative of hidden layer 1" in msg
    assert "dW2, db2 are right" in msg


# ---------------------------------------------------------------- stability

def test_unstable_softmax_is_named():
    def softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    with np.errstate(all="ignore"):
        msg = failure(checks.softmax, softmax)
    assert "nan/inf for logits of magnitude ~1e3" in msg and "subtract the row maximum" in msg


def test_unstable_bce_is_named():
    def bce(z, y):
        s = 1 / (1 + np.exp(-z))
        return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)), (s - y) / len(z)

    with np.errstate(all="ignore"):
        msg = failure(checks.bce_with_logits, bce)
    assert "numerically unstable" in msg and "log(1 + exp(-|z|))" in msg


def test_one_sided_numerical_gradient_is_named():
    def numgrad(f, x, h=1e-5):
        g = np.zeros(x.shape)
        fx = f(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            g[i] = (f(x) - fx) / h
            x[i] = old
        return g

    assert "one-sided difference" in failure(checks.numerical_gradient, numgrad)


# ------------------------------------------------------------ diagnose() itself

def test_diagnose_recognises_ratios_and_transposes():
    rng = np.random.default_rng(0)
    want = rng.standard_normal((4, 4))
    assert "wrong sign" in checks.diagnose(-want, want)
    assert "= N" in checks.diagnose(4 * want, want, n=4)
    assert "= 1/N" in checks.diagnose(want / 4, want, n=4)
    assert "transpose" in checks.diagnose(want.T, want)
    assert checks.diagnose(want + rng.standard_normal((4, 4)), want) == ""


def test_compare_reports_the_worst_entry_and_accepts_float32_rounding():
    want = np.linspace(-1, 1, 12).reshape(3, 4)
    assert checks.compare("q", want.astype(np.float32), want, "float32") is None
    assert checks.compare("q", want * (1 + 1e-5), want, "float32") is None
    assert checks.compare("q", want * (1 + 1e-5), want, "float64") is not None
    bad = want.copy()
    bad[2, 1] += 0.5
    msg = checks.compare("q", bad, want)
    assert msg.startswith("q is wrong") and "(2, 1)" in msg


# --------------------------------------------------------------- the rest

def test_perceptron_epoch_off_by_one_is_named():
    def update(w, b, x, t, lr):
        y = 1.0 if np.dot(w, x) + b >= 0 else 0.0
        return w + lr * (t - y) * x, b + lr * (t - y)

    def train(X, t, lr=1.0, epochs=10):
        w, b = np.zeros(X.shape[1]), 0.0
        for _ in range(epochs - 1):
            for x, ti in zip(X, t):
                w, b = update(w, b, x, ti, lr)
        return w, b

    assert "one epoch too few (off by one" in failure(checks.perceptron_train, train)


def test_momentum_with_the_old_velocity_is_named():
    def step(w, dw, v, lr, beta):
        return w + v, beta * v - lr * dw

    assert "old velocity" in failure(checks.momentum_step, step)


def test_dropped_last_minibatch_is_named():
    def batches(N, B, rng):
        order = rng.permutation(N)
        return [order[i:i + B] for i in range(0, N - B + 1, B)]

    assert "last, shorter batch is missing" in failure(checks.minibatches, batches)


def test_numerical_gradient_that_changes_x_is_named():
    def numgrad(f, x, h=1e-5):
        g = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            fp = f(x)
            x[i] = old - h
            g[i] = (fp - f(x)) / (2 * h)
        return g

    assert "changed x" in failure(checks.numerical_gradient, numgrad)


def test_a_function_returning_the_wrong_kind_of_value_is_named():
    assert "must return 2 values (out, cache)" in failure(checks.affine_forward,
                                                          lambda x, W, b: x @ W + b)
    assert "expected a numpy array" in failure(checks.relu, lambda z: "relu", lambda z: z > 0)
