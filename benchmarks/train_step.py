"""Time one training step (forward, backward, SGD update) of course's MLP against PyTorch.

Both sides get the same architecture, batch, dtype, data and thread count, measured in
the same run; the baseline is PyTorch on the CPU (``pip install torch==2.13.0``). A row
per case prints the median time of a step on each side and the ratio course / torch
(below 1 means course is faster); the last line is ``max_ratio=<number>``.

    python benchmarks/train_step.py [--threads 1] [--repeat 7] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from course.data import digits, spirals, xor
from course.network import MLP
from course.optim import SGD

CASES = [
    # name, sizes, hidden, output, batch
    ("xor 2-8-1", [2, 8, 1], "tanh", "sigmoid", 4),
    ("spirals 2-64-64-3", [2, 64, 64, 3], "relu", "softmax", 300),
    ("digits 64-128-128-10", [64, 128, 128, 10], "relu", "softmax", 128),
    ("mnist-size 784-256-256-10", [784, 256, 256, 10], "relu", "softmax", 128),
]


def case_data(name, batch, rng):
    """Return one batch (X, y) for a case: the real data where the course ships it."""
    if name.startswith("xor"):
        X, y = xor()
    elif name.startswith("spirals"):
        X, y = spirals(n_per_class=100, classes=3, seed=0)
    elif name.startswith("digits"):
        X, y = digits()
    else:
        X, y = rng.random((batch, 784)), rng.integers(0, 10, batch)
    idx = rng.choice(len(X), size=batch, replace=len(X) < batch)
    return X[idx], y[idx]


def calls_per_round(step, min_time):
    """Return how many calls of step() fill about min_time seconds (after a warm-up)."""
    step()
    t0 = time.perf_counter()
    step()
    return max(1, int(min_time / max(time.perf_counter() - t0, 1e-7)))


def time_pair(ours, base, repeat, min_time=0.2):
    """Return the median seconds per step of two step functions, timed in alternating rounds.

    Alternating the rounds exposes both sides to the same background load on a shared machine.
    """
    counts = [calls_per_round(ours, min_time), calls_per_round(base, min_time)]
    samples = ([], [])
    for _ in range(repeat):
        for step, n, out in zip((ours, base), counts, samples):
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            out.append((time.perf_counter() - t0) / n)
    return statistics.median(samples[0]), statistics.median(samples[1])


def course_step(sizes, hidden, output, dtype, X, y):
    net = MLP(sizes, hidden=hidden, output=output, dtype=dtype, seed=0)
    X = X.astype(dtype)
    opt = SGD(0.01)

    def step():
        _, grads = net.loss(X, y)
        opt.step(net.params, grads)
    return step


def torch_step(torch, sizes, hidden, output, dtype, X, y):
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[hidden]
    mods = []
    for i in range(len(sizes) - 1):
        mods.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            mods.append(act())
    model = torch.nn.Sequential(*mods).to(tdtype)
    Xt = torch.tensor(X, dtype=tdtype)
    if output == "sigmoid":
        yt = torch.tensor(y, dtype=tdtype).reshape(-1, 1)
        crit = torch.nn.BCEWithLogitsLoss()
    else:
        yt = torch.tensor(y, dtype=torch.long)
        crit = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = crit(model(Xt), yt)
        loss.backward()
        opt.step()
    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both sides")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds per case")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is the baseline of this benchmark: pip install torch==2.13.0")
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    repeat, min_time = (3, 0.05) if args.quick else (args.repeat, 0.2)
    rng = np.random.default_rng(0)
    ratios = []
    print(f"threads={args.threads}  numpy {np.__version__}  torch {torch.__version__}")
    print(f"{'case':<28}{'dtype':<9}{'course (us)':>12}{'torch (us)':>12}{'ratio':>8}")
    with threadpool_limits(args.threads):
        for name, sizes, hidden, output, batch in CASES:
            X, y = case_data(name, batch, rng)
            for dtype in (np.float32, np.float64):
                ours, base = time_pair(course_step(sizes, hidden, output, dtype, X, y),
                                       torch_step(torch, sizes, hidden, output, dtype, X, y),
                                       repeat, min_time)
                ratios.append(ours / base)
                print(f"{name:<28}{np.dtype(dtype).name:<9}{ours * 1e6:>12.1f}{base * 1e6:>12.1f}"
                      f"{ours / base:>8.2f}")
    print(f"max_ratio={max(ratios):.2f}")


if __name__ == "__main__":
    main()
