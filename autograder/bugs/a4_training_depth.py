"""Known mistakes in assignment 4 (momentum, mini-batches, training, vanishing gradients)."""

M, B, T, G = "momentum", "minibatches", "train_digits", "gradient_norms"

VARIANTS = [
    dict(name="momentum_in_place", description="v and w updated in place (v *= beta; "
                                              "w += v): the arrays passed in change",
         patches=[(M, "    v = beta * v - lr * dw\n    w = w + v",
                   "    v *= beta\n    v -= lr * dw\n    w += v")]),
    dict(name="momentum_sign_error", description="v = beta v + lr dw (gradient ascent)",
         patches=[(M, "v = beta * v - lr * dw", "v = beta * v + lr * dw")]),
    dict(name="momentum_position_sign", description="w = w - v",
         patches=[(M, "w = w + v", "w = w - v")]),
    dict(name="momentum_forgets_velocity", description="v = -lr dw (plain SGD)",
         patches=[(M, "v = beta * v - lr * dw", "v = -lr * dw")]),
    dict(name="momentum_uses_old_velocity", description="w += v before v is updated",
         patches=[(M, "    v = beta * v - lr * dw\n    w = w + v",
                   "    w = w + v\n    v = beta * v - lr * dw")]),
    dict(name="momentum_other_convention", description="v = beta v + dw; w -= lr v",
         patches=[(M, "    v = beta * v - lr * dw\n    w = w + v",
                   "    v = beta * v + dw\n    w = w - lr * v")]),
    dict(name="minibatches_drop_last", description="the last, shorter batch is dropped",
         patches=[(B, "range(0, N, batch_size)", "range(0, N - batch_size + 1, batch_size)")]),
    dict(name="minibatches_not_shuffled", description="np.arange(N) instead of a permutation",
         patches=[(B, "order = rng.permutation(N)", "order = np.arange(N)")]),
    dict(name="minibatches_overlap", description="batches one index too long",
         patches=[(B, "order[i:i + batch_size]", "order[i:i + batch_size + 1]")]),
    dict(name="minibatches_with_replacement", description="indices drawn with replacement",
         patches=[(B, "order = rng.permutation(N)", "order = rng.integers(0, N, N)")]),
    dict(name="train_learning_rate_too_small", description="lr = 0.0005: underfits",
         patches=[(T, "lr=0.05", "lr=0.0005")]),
    dict(name="train_one_batch_per_epoch", description="stops after the first mini-batch",
         patches=[(T, "                                                       lr=0.05, beta=0.9)",
                   "                                                       lr=0.05, beta=0.9)\n"
                   "            break")]),
    dict(name="train_uses_course_optim", description="the update uses course.optim.SGD",
         patches=[(T, "            loss, grads = mlp_loss(X_train[idx], y_train[idx], params)",
                   "            loss, grads = mlp_loss(X_train[idx], y_train[idx], params)\n"
                   "            from course import optim\n"
                   "            optim.SGD(lr=0.05).step(params, grads)")]),
    dict(name="norms_reversed", description="layer L first",
         patches=[(G, "for i in range(1, L + 1)", "for i in range(L, 0, -1)")]),
    dict(name="norms_of_weights", description="||W_l|| instead of ||dW_l||",
         patches=[(G, 'np.linalg.norm(grads[f"W{i}"])', 'np.linalg.norm(params[f"W{i}"])')]),
    dict(name="norms_of_biases", description="||db_l|| instead of ||dW_l||",
         patches=[(G, 'np.linalg.norm(grads[f"W{i}"])', 'np.linalg.norm(grads[f"b{i}"])')]),
    # what the signature promises: the arguments are used
    dict(name="minibatches_ignore_rng", description="a generator of its own, not the rng",
         patches=[(B, "order = rng.permutation(N)",
                   "order = np.random.default_rng(0).permutation(N)")]),
    dict(name="minibatches_use_np_random", description="np.random.permutation, not the rng",
         patches=[(B, "order = rng.permutation(N)", "order = np.random.permutation(N)")]),
    dict(name="train_digits_loads_the_digits", description="trains on all the digits loaded "
         "again, not on X_train, y_train",
         patches=[(T, "    rng = np.random.default_rng(0)\n",
                   "    rng = np.random.default_rng(0)\n"
                   "    X_train, y_train = data.digits(seed=0)\n")]),
]

# The variant above that uses the course's answers, graded end to end through nbgrader
# (tests/test_assignments_nbgrader.py), and the test cells it must lose.
CHEAT = "train_uses_course_optim"
CHEAT_LOSES = {"test_train_digits"}
