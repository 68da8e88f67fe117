"""The training loop: ``handnet.train`` against the twin's torch loop over the same batch order,
for several epochs -- weights, recorded losses, lr and predictions, epoch by epoch."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, reject
from support import examples

from handnet.config import Config
from handnet.train import Run, build, epoch_order, predict, train
from reference import strategies as S
from reference.compare import assert_matches_reference
from reference.harness import predictions_agree
from reference.network import handnet_parameters
from reference.scales import forward_scale, loss_scale
from reference.tolerance import tolerance
from reference.train import build_twin, run_epoch
from reference.train import predict as twin_predict


def twin_is_stable(config: Config, orders: list[np.ndarray]) -> bool:
    """Train a twin alone first: the policy covers stable training only (see tolerance)."""
    twin = build_twin(build(config))
    bound = 10 * max(float(p.detach().abs().max()) for p in twin.model.parameters()) + 1
    for order in orders:
        run_epoch(twin, order)
        if not all(float(p.detach().abs().max()) < bound for p in twin.model.parameters()):
            return False
        if not math.isfinite(twin.history.loss[-1]):
            return False
    return True


def check_training(config: Config) -> None:
    probe = build(config)  # an identical run: its shuffle generator gives the same orders
    orders = [epoch_order(probe) for _ in range(config.epochs)]
    if not twin_is_stable(config, orders):
        reject()
    run = build(config)
    twin = build_twin(run)
    n = len(run.data.x_train)
    steps_per_epoch = math.ceil(n / (config.batch_size or n))

    def on_epoch_end(epoch: int, order: np.ndarray, run: Run) -> None:
        assert np.array_equal(order, orders[epoch]), "handnet used another batch order"
        run_epoch(twin, order)
        steps = (epoch + 1) * steps_per_epoch
        tol = tolerance(np.float64, steps)
        assert_matches_reference(
            {k: v.copy() for k, v in run.network.parameters.items()},
            handnet_parameters(twin.model), steps=steps, what=f"weights after epoch {epoch}")
        x, y = run.data.x_train, run.data.y_train
        s_out = forward_scale(twin.model, x)
        with np.errstate(all="ignore"):
            y_twin = twin.model(__import__("torch").tensor(x)).detach().numpy()
        l_scale = loss_scale(config.loss if config.loss != "half-sse" else "mse", y_twin, y,
                             s_out, twin.history.loss[-1]) * (n if config.loss == "half-sse"
                                                              else 1)
        assert_matches_reference(
            {"loss": np.array(run.history.loss[-1]), "lr": np.array(run.history.lr[-1])},
            {"loss": np.array(twin.history.loss[-1]), "lr": np.array(twin.history.lr[-1])},
            steps=steps, scales={"loss": l_scale}, what=f"history of epoch {epoch}")
        margin = tol.rtol * (np.abs(y_twin) + s_out)
        if predictions_agree(run.network.forward(x), y_twin, margin) and not np.any(
            np.abs(y_twin - 0.5) <= margin
        ):
            assert run.history.train_accuracy[-1] == twin.history.train_accuracy[-1]
        x_test = run.data.x_test
        with np.errstate(all="ignore"):
            t_test = twin.model(__import__("torch").tensor(x_test)).detach().numpy()
        assert predictions_agree(run.network.forward(x_test), t_test,
                                 tol.rtol * (np.abs(t_test) + forward_scale(twin.model, x_test)))
        assert predict(run.network, x_test).shape == twin_predict(twin.model, x_test).shape

    train(run, on_epoch_end)
    assert len(twin.history.loss) == config.epochs


@examples(40)
@given(config=S.configs(batch_size="per-sample"))
def test_per_sample_training_equals_the_torch_loop(config: Config) -> None:
    """The seed's granularity: one update per sample, several epochs, any optimiser/schedule."""
    check_training(config)


@examples(40)
@given(config=S.configs(batch_size="mini-batch"))
def test_mini_batch_training_equals_the_torch_loop(config: Config) -> None:
    check_training(config)


@examples(20)
@given(config=S.configs(batch_size="full"))
def test_full_batch_training_equals_the_torch_loop(config: Config) -> None:
    check_training(config)
