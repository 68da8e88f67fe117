"""The torch twin's timing for ``handnet bench`` (same cases, same starting weights, float64).

The model is built directly from ``torch.nn.Linear`` + ``torch.nn.Sigmoid`` with handnet's
starting weights (``Linear.weight = W.T``); the loss is ``0.5 * sum((y_hat - y)**2)`` and the
optimiser ``torch.optim.SGD`` with momentum 0.9 on the weights and none on the biases (torch's
momentum convention; the cost per step is the same as the classic one).  A step is
``zero_grad``, forward, loss, ``backward``, ``step``; eager mode, ``torch.set_num_threads``
pins the threads.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from handnet.bench import CASES, LR, MOMENTUM, Case, block_timer, problem


def build_model(case: Case) -> tuple[torch.nn.Sequential, torch.Tensor, torch.Tensor]:
    net, x, y = problem(case)
    layers: list[torch.nn.Module] = []
    for layer in net.layers:
        W, b = layer.parameters["W"], layer.parameters["b"]
        lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b[0].copy()))
        layers += [lin, torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers), torch.from_numpy(x), torch.from_numpy(y)


def step_block(case: Case) -> Callable[[], None]:
    """A block of ``case.steps`` torch steps (per sample: one epoch over ``case.n`` points)."""
    model, x, y = build_model(case)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD([{"params": weights, "momentum": MOMENTUM},
                           {"params": biases, "momentum": 0.0}], lr=LR)
    if case.batch == 1:
        samples = [(x[k : k + 1], y[k : k + 1]) for k in range(case.steps)]
    else:
        samples = [(x[: case.batch], y[: case.batch])] * case.steps

    def block() -> None:
        for xb, yb in samples:
            opt.zero_grad()
            loss = 0.5 * ((model(xb) - yb) ** 2).sum()
            loss.backward()
            opt.step()

    return block


def torch_timer(name: str, threads: int) -> Callable[[], float]:
    """A timer of case ``name`` with ``threads`` intra-op threads: one block, µs per step."""
    case = CASES[name]
    if case.batch == 1:  # an eager per-sample step costs ~400 µs: 200 samples per block
        case = Case(case.name, case.sizes, case.batch, case.init, 200, case.n)
    block = step_block(case)

    def pinned() -> None:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            block()
        finally:
            torch.set_num_threads(previous)

    return block_timer(pinned, case.steps)


def versions() -> dict[str, str]:
    return {"torch": torch.__version__}
