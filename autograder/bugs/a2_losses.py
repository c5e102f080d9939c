"""Known mistakes in assignment 2 (softmax and the cross-entropy losses)."""

SM, LSM, CE, BCE = "softmax", "log_softmax", "softmax_cross_entropy", "bce_with_logits"

AUTOGRAD_CE = '''    import autograd
    import autograd.numpy as anp

    def mean_nll(s):
        m = anp.max(s, axis=1, keepdims=True)
        lp = s - m - anp.log(anp.sum(anp.exp(s - m), axis=1, keepdims=True))
        return -anp.mean(lp[np.arange(N), y])

    dscores = autograd.grad(mean_nll)(scores)'''

VARIANTS = [
    dict(name="softmax_without_max_shift", description="exp(z) overflows for large logits",
         patches=[(SM, "e = np.exp(z - z.max(axis=1, keepdims=True))", "e = np.exp(z)")]),
    dict(name="softmax_over_columns", description="normalises over axis 0",
         patches=[(SM, "z.max(axis=1, keepdims=True)", "z.max(axis=0, keepdims=True)"),
                  (SM, "e / e.sum(axis=1, keepdims=True)", "e / e.sum(axis=0, keepdims=True)")]),
    dict(name="softmax_backward_diagonal_only", description="dz = dout * p * (1 - p)",
         patches=[(SM, "dz = p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
                   "dz = dout * p * (1 - p)")]),
    dict(name="softmax_backward_sums_over_batch", description="the sum runs over axis 0",
         patches=[(SM, "np.sum(dout * p, axis=1, keepdims=True)",
                   "np.sum(dout * p, axis=0, keepdims=True)")]),
    dict(name="log_softmax_as_log_of_softmax", description="log(exp(z) / sum exp(z))",
         patches=[(LSM, "logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                   "logp = np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))")]),
    dict(name="log_softmax_forgets_log", description="z - m - sum exp(z - m)",
         patches=[(LSM, "shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                   "shifted - np.exp(shifted).sum(axis=1, keepdims=True)")]),
    dict(name="ce_gradient_missing_1_over_N", description="dscores = p - onehot(y)",
         patches=[(CE, "    dscores /= N\n", "")]),
    dict(name="ce_gradient_doubled_1_over_N", description="dscores divided by N twice",
         patches=[(CE, "    dscores /= N\n", "    dscores /= N * N\n")]),
    dict(name="ce_loss_summed", description="the loss is a sum, not a mean",
         patches=[(CE, "loss = -logp[np.arange(N), y].mean()",
                   "loss = -logp[np.arange(N), y].sum()")]),
    dict(name="ce_gradient_wrong_sign", description="dscores = (onehot(y) - p) / N",
         patches=[(CE, "    dscores /= N\n", "    dscores /= -N\n")]),
    dict(name="ce_subtracts_one_everywhere", description="p - 1 instead of p - onehot(y)",
         patches=[(CE, "dscores[np.arange(N), y] -= 1", "dscores -= 1")]),
    dict(name="ce_gradient_by_autograd", description="dscores from autograd.grad",
         patches=[(CE, "    dscores = np.exp(logp)\n    dscores[np.arange(N), y] -= 1\n"
                       "    dscores /= N", AUTOGRAD_CE)]),
    dict(name="bce_naive_logs", description="log(sigmoid) and log(1 - sigmoid) directly",
         patches=[(BCE, "loss = np.mean(np.maximum(scores, 0) - scores * y + np.log1p(e))",
                   "p = 1 / (1 + np.exp(-scores))\n"
                   "    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))")]),
    dict(name="bce_gradient_missing_1_over_N", description="dscores = s - y",
         patches=[(BCE, "dscores = (s - y) / N", "dscores = s - y")]),
    dict(name="bce_gradient_wrong_sign", description="dscores = (y - s) / N",
         patches=[(BCE, "dscores = (s - y) / N", "dscores = (y - s) / N")]),
    dict(name="bce_loss_without_log1p_term", description="drops log(1 + exp(-|z|))",
         patches=[(BCE, " + np.log1p(e))", ")")]),
]

# The variant above that uses the course's answers, graded end to end through nbgrader
# (tests/test_assignments_nbgrader.py), and the test cells it must lose.
CHEAT = "ce_gradient_by_autograd"
CHEAT_LOSES = {"test_softmax_cross_entropy"}
