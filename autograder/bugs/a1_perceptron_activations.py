"""Known mistakes in assignment 1 (the perceptron and the activation functions)."""

P, A = "perceptron", "activations"

VARIANTS = [
    dict(name="perceptron_strict_threshold", description="predicts 1 only when w.x + b > 0",
         patches=[(P, "np.dot(w, x) + b >= 0", "np.dot(w, x) + b > 0")]),
    dict(name="perceptron_update_wrong_sign", description="w += lr (y - t) x",
         patches=[(P, "w = w + lr * (t - y) * x", "w = w + lr * (y - t) * x"),
                  (P, "b = b + lr * (t - y)", "b = b + lr * (y - t)")]),
    dict(name="perceptron_bias_not_updated", description="b never changes",
         patches=[(P, "b = b + lr * (t - y)", "b = b")]),
    dict(name="perceptron_update_ignores_lr", description="w += (t - y) x",
         patches=[(P, "w = w + lr * (t - y) * x", "w = w + (t - y) * x")]),
    dict(name="perceptron_train_one_epoch_short", description="range(epochs - 1)",
         patches=[(P, "for _ in range(epochs):", "for _ in range(epochs - 1):")]),
    dict(name="perceptron_train_one_epoch_long", description="range(epochs + 1)",
         patches=[(P, "for _ in range(epochs):", "for _ in range(epochs + 1):")]),
    dict(name="sigmoid_wrong_sign", description="1 / (1 + exp(z))",
         patches=[(A, "1.0 / (1.0 + np.exp(-z))", "1.0 / (1.0 + np.exp(z))")]),
    dict(name="sigmoid_grad_is_s", description="sigmoid' = s instead of s (1 - s)",
         patches=[(A, "return s * (1 - s)", "return s")]),
    dict(name="tanh_grad_is_sigmoid_grad", description="tanh' computed as sigmoid'",
         patches=[(A, "return 1 - np.tanh(z) ** 2", "return sigmoid_grad(z)")]),
    dict(name="tanh_grad_missing_square", description="1 - tanh(z)",
         patches=[(A, "return 1 - np.tanh(z) ** 2", "return 1 - np.tanh(z)")]),
    dict(name="tanh_grad_at_output", description="1 - tanh(tanh(z))**2",
         patches=[(A, "return 1 - np.tanh(z) ** 2", "return 1 - np.tanh(np.tanh(z)) ** 2")]),
    dict(name="relu_grad_returns_relu", description="relu' = max(0, z)",
         patches=[(A, "return (z > 0).astype(float)", "return np.maximum(z, 0)")]),
    dict(name="leaky_relu_wrong_slope", description="default slope 0.1",
         patches=[(A, "def leaky_relu(z, alpha=0.01):", "def leaky_relu(z, alpha=0.1):")]),
    dict(name="leaky_relu_grad_is_relu_grad", description="0 instead of alpha for z <= 0",
         patches=[(A, "np.where(z > 0, 1.0, alpha)", "np.where(z > 0, 1.0, 0.0)")]),
    dict(name="perceptron_calls_grader_reference",
         description="perceptron_update returns autograder.reference.perceptron_update",
         patches=[(P, "    y = 1.0 if np.dot(w, x) + b >= 0 else 0.0\n",
                   "    from autograder import reference\n"
                   "    return reference.perceptron_update(w, b, x, t, lr)\n"
                   "    y = 1.0 if np.dot(w, x) + b >= 0 else 0.0\n")]),
    dict(name="relu_calls_course", description="relu returns course.activations.relu",
         patches=[(A, "    return np.maximum(z, 0)\n",
                   "    from course import activations\n    return activations.relu(z)\n")]),
    # what the signature and the docstring promise
    dict(name="perceptron_update_in_place", description="w += ... changes the w passed in",
         patches=[(P, "w = w + lr * (t - y) * x", "w += lr * (t - y) * x")]),
    dict(name="leaky_relu_ignores_alpha", description="the slope 0.01 whatever alpha is",
         patches=[(A, "return np.where(z > 0, z, alpha * z)",
                   "return np.where(z > 0, z, 0.01 * z)")]),
    dict(name="leaky_relu_grad_ignores_alpha", description="the slope 0.01 whatever alpha is",
         patches=[(A, "return np.where(z > 0, 1.0, alpha)", "return np.where(z > 0, 1.0, 0.01)")]),
]

# The variant above that uses the course's answers, graded end to end through nbgrader
# (tests/test_assignments_nbgrader.py), and the test cells it must lose.
CHEAT = "relu_calls_course"
CHEAT_LOSES = {"test_relu"}
