"""Known mistakes in assignment 3 (backpropagation by hand)."""

AFF, ACT, MLP, NUM = "affine_layer", "activation_layers", "mlp", "numerical_gradient"

VARIANTS = [
    dict(name="dx_uses_W_not_W_T", description="dx = dout @ W (missing transpose)",
         patches=[(AFF, "dx = dout @ W.T", "dx = dout @ W")]),
    dict(name="dW_transposed", description="dW = dout.T @ x",
         patches=[(AFF, "dW = x.T @ dout", "dW = dout.T @ x")]),
    dict(name="db_not_summed_over_batch", description="db = dout",
         patches=[(AFF, "db = dout.sum(axis=0)", "db = dout")]),
    dict(name="db_averaged", description="db = dout.mean(axis=0) (an extra 1/N)",
         patches=[(AFF, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)")]),
    dict(name="dW_divided_by_N", description="dW = x.T @ dout / N",
         patches=[(AFF, "dW = x.T @ dout", "dW = x.T @ dout / len(x)")]),
    dict(name="affine_forward_no_bias", description="out = x @ W",
         patches=[(AFF, "    out = x @ W + b\n", "    out = x @ W\n")]),
    dict(name="relu_backward_forgets_dout", description="dz = (z > 0)",
         patches=[(ACT, "dz = dout * (z > 0)", "dz = 1.0 * (z > 0)")]),
    dict(name="sigmoid_grad_is_s", description="dz = dout * s (no 1 - s)",
         patches=[(ACT, "dz = dout * s * (1 - s)", "dz = dout * s")]),
    dict(name="sigmoid_backward_sigmoid_of_output",
         description="the backward applies the sigmoid again to the cached output",
         patches=[(ACT, "    s = cache\n", "    s = 1.0 / (1.0 + np.exp(-cache))\n")]),
    dict(name="tanh_backward_uses_input",
         description="tanh caches z but the backward treats it as the output t",
         patches=[(ACT, "out = np.tanh(z)\n    cache = out", "out = np.tanh(z)\n    cache = z")]),
    dict(name="tanh_backward_missing_square", description="dz = dout * (1 - t)",
         patches=[(ACT, "dz = dout * (1 - t * t)", "dz = dout * (1 - t)")]),
    dict(name="mlp_backward_skips_last_activation",
         description="the backward pass skips the activation of the last hidden layer",
         patches=[(MLP, "dz = dh if act_cache is None else backward(dh, act_cache)",
                   "dz = dh if act_cache is None or i == len(caches) - 1 "
                   "else backward(dh, act_cache)")]),
    dict(name="mlp_forward_activation_on_scores",
         description="the output layer applies the activation too",
         patches=[(MLP, "if i < L:", "if i <= L:")]),
    dict(name="mlp_fixed_depth_two", description="the network is hard-coded to two layers",
         patches=[(MLP, "L = len(params) // 2", "L = 2")]),
    dict(name="mlp_backward_does_not_chain",
         description="every layer receives dscores instead of the gradient from above",
         patches=[(MLP, "dh, grads[f\"W{i}\"]", "_, grads[f\"W{i}\"]")]),
    dict(name="mlp_backward_uses_course",
         description="mlp_backward calls the course package's MLP",
         patches=[(MLP, "    caches, activation = cache\n    backward",
                   "    from course import layers\n"
                   "    caches, activation = cache\n"
                   "    _unused = layers.affine_backward(dscores, caches[-1][0])\n"
                   "    backward")]),
    dict(name="affine_backward_calls_course_layers",
         description="affine_backward returns course.layers.affine_backward",
         patches=[(AFF, "    dx = dout @ W.T\n    dW = x.T @ dout\n    db = dout.sum(axis=0)",
                   "    from course import layers\n"
                   "    dx, dW, db = layers.affine_backward(dout, (x, W))")]),
    dict(name="numgrad_one_sided", description="(f(x + h) - f(x)) / h",
         patches=[(NUM, "x[i] = old - h", "x[i] = old"), (NUM, "(2 * h)", "h")]),
    dict(name="numgrad_divides_by_h", description="(f(x + h) - f(x - h)) / h",
         patches=[(NUM, "(2 * h)", "h")]),
    dict(name="numgrad_does_not_restore_x", description="x is left changed",
         patches=[(NUM, "        x[i] = old\n        grad", "        grad")]),
    dict(name="numgrad_ignores_h", description="a fixed step 1e-5 whatever h is passed",
         patches=[(NUM, "    grad = np.zeros(x.shape)\n",
                   "    h = 1e-5\n    grad = np.zeros(x.shape)\n")]),
]

# The variant above that uses the course's answers, graded end to end through nbgrader
# (tests/test_assignments_nbgrader.py), and the test cells it must lose.
CHEAT = "affine_backward_calls_course_layers"
CHEAT_LOSES = {"test_affine_backward", "test_mlp_backward"}
