"""Known mistakes in assignment 5 (a scalar autodiff engine, an MLP on it, its training)."""

V, M, T = "value_class", "mlp", "training"

ADD_RULE = "            self.grad += out.grad\n            other.grad += out.grad"
MUL_RULE = ("            self.grad += other.data * out.grad\n"
            "            other.grad += self.data * out.grad")
ITERATIVE_SORT = '''        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
'''
RECURSIVE_SORT = '''        order, visited = [], set()

        def visit(node):
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
'''
XOR_LISTS = "    X = [[float(v) for v in x] for x in X]\n    y = [float(t) for t in y]"
LAST_LINES = "        for node in reversed(order):\n            node._backward()"

VARIANTS = [
    dict(name="grad_overwritten", description="self.grad = ... instead of += in + and *",
         patches=[(V, ADD_RULE, ADD_RULE.replace("+=", "=")),
                  (V, MUL_RULE, MUL_RULE.replace("+=", "="))]),
    dict(name="order_not_reversed", description="the rules run inputs first",
         patches=[(V, "for node in reversed(order):", "for node in order:")]),
    dict(name="no_visited_set", description="the depth-first search revisits shared nodes",
         patches=[(V, "            elif node not in visited:\n                visited.add(node)\n",
                   "            else:\n")]),
    dict(name="recursive_sort", description="a recursive depth-first search (overflows on "
                                            "a chain of 10 000)",
         patches=[(V, ITERATIVE_SORT, RECURSIVE_SORT)]),
    dict(name="pow_exponent_not_lowered", description="p * a**p instead of p * a**(p - 1)",
         patches=[(V, "self.grad += p * self.data ** (p - 1) * out.grad",
                   "self.grad += p * self.data ** p * out.grad")]),
    dict(name="div_denominator_sign", description="d(a / b)/db = +a / b**2",
         patches=[(V, "other.grad -= self.data / other.data ** 2 * out.grad",
                   "other.grad += self.data / other.data ** 2 * out.grad")]),
    dict(name="exp_rule_with_input", description="d exp(x)/dx written as x",
         patches=[(V, "self.grad += out.data * out.grad", "self.grad += self.data * out.grad")]),
    dict(name="log_rule_times_x", description="d log(x)/dx written as x",
         patches=[(V, "self.grad += out.grad / self.data", "self.grad += out.grad * self.data")]),
    dict(name="tanh_rule_with_input", description="1 - x**2 instead of 1 - tanh(x)**2",
         patches=[(V, "self.grad += (1 - out.data ** 2) * out.grad",
                   "self.grad += (1 - self.data ** 2) * out.grad")]),
    dict(name="sigmoid_rule_missing_factor", description="s instead of s (1 - s)",
         patches=[(V, "self.grad += out.data * (1 - out.data) * out.grad",
                   "self.grad += out.data * out.grad")]),
    dict(name="relu_kink_is_one", description="derivative 1 at x = 0 (x >= 0)",
         patches=[(V, "(self.data > 0) * out.grad", "(self.data >= 0) * out.grad")]),
    dict(name="sub_written_as_add", description="d(a - b)/db = +1",
         patches=[(V, "other.grad -= out.grad", "other.grad += out.grad")]),
    dict(name="grads_not_reset", description="train_step never calls zero_grad",
         patches=[(T, "    model.zero_grad()\n", "")]),
    dict(name="output_grad_not_seeded", description="backward() leaves the output's grad at 0",
         patches=[(V, "        self.grad = 1.0\n", "")]),
    dict(name="rule_ignores_upstream", description="tanh's rule forgets out.grad",
         patches=[(V, "self.grad += (1 - out.data ** 2) * out.grad",
                   "self.grad += 1 - out.data ** 2")]),
    dict(name="rsub_operands_swapped", description="1 - a computed as a - 1",
         patches=[(V, "out = Value(other) - self", "out = self - Value(other)")]),
    dict(name="mlp_last_layer_tanh", description="the output layer applies tanh too",
         patches=[(M, "nonlin=i < len(nouts) - 1", "nonlin=True")]),
    dict(name="parameters_bias_first", description="each neuron lists b before w",
         patches=[(M, "params = self.w + [self.b]", "params = [self.b] + self.w")]),
    dict(name="hinge_loss_summed", description="the sum of the hinge terms, not their mean",
         patches=[(T, "loss = sum(losses[1:], losses[0]) / len(losses)",
                   "loss = sum(losses[1:], losses[0])")]),
    dict(name="xor_data_of_its_own", description="train_xor draws its own XOR data and "
                                                 "ignores the X and y it is given",
         patches=[(T, XOR_LISTS, "    from course import data\n\n"
                                 "    X, y = data.xor(n=60, noise=0.15, seed=1)\n"
                                 "    X, y = (X - 0.5).tolist(), (2.0 * y - 1.0).tolist()")]),
    dict(name="xor_labels_from_x", description="train_xor computes the XOR labels of X and "
                                               "ignores y",
         patches=[(T, XOR_LISTS, XOR_LISTS.replace("[float(t) for t in y]",
                                                   "[1.0 if x[0] * x[1] < 0 else -1.0 "
                                                   "for x in X]"))]),
    dict(name="mul_rule_own_operand", description="d(a * b)/da written as a (each operand "
                                                 "gets its own value)",
         patches=[(V, MUL_RULE, MUL_RULE.replace("other.data * out.grad", "SELF")
                   .replace("self.data * out.grad", "other.data * out.grad")
                   .replace("SELF", "self.data * out.grad"))]),
    dict(name="sigmoid_overflows", description="the textbook 1 / (1 + exp(-x)), which "
                                              "overflows for x far below 0",
         patches=[(V, "s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))",
                   "s = 1 / (1 + math.exp(-x))")]),
    dict(name="backward_resets_grads", description="backward() zeroes every grad before its "
                                                  "pass: a second backward() does not add",
         patches=[(V, "        self.grad = 1.0\n",
                   "        for node in order:\n            node.grad = 0.0\n"
                   "        self.grad = 1.0\n")]),
    dict(name="value_is_course_autodiff", description="Value is course.autodiff.Value",
         patches=[(V, LAST_LINES, LAST_LINES + "\n\n\nfrom course.autodiff import Value  "
                                               "# noqa: E402, F811")]),
]

# The variant above that uses the course's answers, graded end to end through nbgrader
# (tests/test_assignments_nbgrader.py), and the test cells it must lose.
CHEAT = "value_is_course_autodiff"
CHEAT_LOSES = {"test_value_forward", "test_value_rules", "test_value_graphs",
               "test_value_scale", "test_mlp_forward", "test_train_step",
               "test_train_xor"}
