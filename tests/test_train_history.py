"""What ``handnet.train`` records besides the weights: the test points, the test set's loss and
accuracy, and NaN (not a figure, not a warning) for a diverged network.

Found by mutmut on handnet/train.py: no test read ``History.test_loss`` or ``test_epochs``, and
the test accuracy compared each of K outputs with its one-hot target (``(y_hat > 0.5) == y``
element by element) instead of the predicted class with the target class.  Expected figures come
from torch's ``cross_entropy``/``mse_loss`` and ``argmax`` on the network's own outputs."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from handnet.config import Config
from handnet.train import Run, build, predicted_labels, record_output, record_test, train

# the module (``import handnet.train`` gives the function of that name)
train_module = sys.modules["handnet.train"]


def test_test_points_are_every_kth_epoch_and_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_module, "TEST_POINTS", 2)  # 7 epochs // 2 points: every 3rd
    run = build(Config(hidden=(3,), epochs=7, n_train=8, n_test=8))
    history = train(run)
    assert history.test_epochs == [3, 6, 7]
    assert len(history.test_loss) == len(history.test_accuracy) == 3


def test_k_class_test_loss_and_accuracy_are_the_predicted_classes() -> None:
    run = build(Config(hidden=(5,), activation=("tanh", "identity"), loss="softmax-ce",
                       dataset="spirals", classes=3, epochs=2, n_train=30, n_test=40, seed=3))
    history = train(run)
    out = run.network.forward(run.data.x_test)
    targets = torch.tensor(np.argmax(run.data.y_test, axis=1))
    want_loss = float(F.cross_entropy(torch.tensor(out), targets))
    want_accuracy = float(np.mean(np.argmax(out, axis=1) == targets.numpy()))
    assert history.test_loss[-1] == pytest.approx(want_loss, rel=1e-12)
    assert history.test_accuracy[-1] == want_accuracy


def test_one_output_test_loss_and_accuracy() -> None:
    run = build(Config(hidden=(3,), activation=("tanh", "identity"), loss="mse", epochs=2,
                       n_train=20, n_test=25, seed=5))
    history = train(run)
    out = run.network.forward(run.data.x_test)
    y = run.data.y_test
    assert history.test_loss[-1] == pytest.approx(
        float(F.mse_loss(torch.tensor(out), torch.tensor(y))), rel=1e-12)
    assert history.test_accuracy[-1] == float(np.mean((out > 0.5) == (y > 0.5)))


def test_an_output_of_exactly_one_half_is_class_zero() -> None:
    """"Above 0.5" is class 1, as the seed and the twin's labels have it; 0.5 itself is not."""
    assert predicted_labels(np.array([[0.5], [0.5000001], [0.4999999]]))[:, 0].tolist() == [
        0.0, 1.0, 0.0]


def _overflowing(run: Run) -> None:
    """Weights of 1e300 on identity layers: the forward overflows to +-inf (and inf - inf)."""
    run.network.parameters["W0"][...] = 1e300
    run.network.parameters["W1"][...] = 1e300
    run.network.parameters["W1"][0, :] = -1e300


def test_a_diverged_network_records_nan_quietly() -> None:
    run = build(Config(hidden=(3,), activation=("identity", "identity"), loss="mse", epochs=1,
                       n_train=8, n_test=8))
    _overflowing(run)
    record_test(run, 1)  # the suite turns warnings into errors: this must not warn
    assert math.isnan(run.history.test_loss[-1]) and math.isnan(run.history.test_accuracy[-1])


def test_an_infinite_output_records_nan_not_inf() -> None:
    """An output of +inf everywhere gives an infinite mse, not NaN: the history must say NaN
    (a diverged run) all the same, not a figure."""
    run = build(Config(hidden=(3,), epochs=1, n_train=4, n_test=4))
    record_output(run, np.full((4, 1), np.inf), 0.1)
    assert math.isnan(run.history.loss[-1]) and math.isnan(run.history.train_accuracy[-1])
