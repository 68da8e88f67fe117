"""docs/check.md's adapter recipes, each run as written: a module that holds the weights, layers
packed in one padded 3-D array reached through views, and one layer stored the other way round
reached through a transposed path."""

from __future__ import annotations

from pathlib import Path

from reference.checker.guard import check_file

SCRIPT_NET = '''
import numpy as np
rng = np.random.default_rng(0)
W1 = rng.standard_normal((3, 4)); b1 = np.zeros((1, 4))
W2 = rng.standard_normal((4, 1)); b2 = np.zeros((1, 1))

def predict(x):
    global h
    h = np.tanh(x @ W1 + b1)
    return h @ W2 + b2

def learn(x, y):
    o = predict(x)
    d2 = o - y
    d1 = (d2 @ W2.T) * (1 - h ** 2)
    W2[...] -= 0.1 * h.T @ d2; b2[...] -= 0.1 * d2.sum(0, keepdims=True)
    W1[...] -= 0.1 * x.T @ d1; b1[...] -= 0.1 * d1.sum(0, keepdims=True)
'''

SCRIPT_ADAPTER = '''
from pathlib import Path
from handnet.adapter import Adapter, Layer
from handnet.usermodule import load_file

def adapter():
    mod = load_file(Path(__file__).with_name("02-my net.py"))  # afresh on every call
    return Adapter(network=mod, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=mod.predict, train_step=mod.learn, lr=0.1)
'''

PACKED = '''
import numpy as np
from handnet.adapter import Adapter, Layer

class Net:  # every layer in one padded (layers, 4, 4) array, biases in a (layers, 4) one
    def __init__(self):
        rng = np.random.default_rng(1)
        self.W = np.zeros((2, 4, 4)); self.B = np.zeros((2, 4))
        self.W[0, :3, :4] = rng.standard_normal((3, 4))
        self.W[1, :4, :2] = rng.standard_normal((4, 2))
    def forward(self, x):
        self.x = x
        self.h = 1 / (1 + np.exp(-(x @ self.W[0, :3, :4] + self.B[0, :4])))
        return self.h @ self.W[1, :4, :2] + self.B[1, :2]
    def step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = (d2 @ self.W[1, :4, :2].T) * self.h * (1 - self.h)
        self.W[1, :4, :2] -= 0.05 * self.h.T @ d2; self.B[1, :2] -= 0.05 * d2.sum(0)
        self.W[0, :3, :4] -= 0.05 * self.x.T @ d1; self.B[0, :4] -= 0.05 * d1.sum(0)

class Views:
    def __init__(self, net):
        self.W1, self.b1 = net.W[0, :3, :4], net.B[0, :4]
        self.W2, self.b2 = net.W[1, :4, :2], net.B[1, :2]

def adapter():
    net = Net()
    return Adapter(network=Views(net), layers=[Layer("W1", "b1", "sigmoid"),
                   Layer("W2", "b2", "identity")], loss="half-sse", bias_layout="vector",
                   forward=net.forward, train_step=net.step, lr=0.05)
'''

ODD_LAYER = '''
import numpy as np
from handnet.adapter import Adapter, Layer

class Net:  # W_ih is (in, out), W_ho stored (out, in)
    def __init__(self):
        rng = np.random.default_rng(2)
        self.W_ih, self.W_ho = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W_ih)
        return self.h @ self.W_ho.T
    def step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = (d2 @ self.W_ho) * (1 - self.h ** 2)
        self.W_ho -= 0.05 * d2.T @ self.h
        self.W_ih -= 0.05 * self.x.T @ d1

def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W_ih", None, "tanh"),
                   Layer("W_ho.T", None, "identity")], loss="half-sse", bias_layout="none",
                   forward=net.forward, train_step=net.step, lr=0.05)
'''


def _run(tmp_path: Path, files: dict[str, str], adapter: str) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return check_file([str(tmp_path / adapter)], timeout=30).verdict


def test_a_module_that_holds_the_weights(tmp_path: Path) -> None:
    assert _run(tmp_path, {"02-my net.py": SCRIPT_NET, "adapter.py": SCRIPT_ADAPTER},
                "adapter.py") == "match"


def test_a_module_with_a_wrong_line_is_a_mismatch(tmp_path: Path) -> None:
    wrong = SCRIPT_NET.replace("d2 = o - y", "d2 = 2 * (o - y)")
    assert _run(tmp_path, {"02-my net.py": wrong, "adapter.py": SCRIPT_ADAPTER},
                "adapter.py") == "mismatch"


def test_layers_packed_in_one_padded_array_through_views(tmp_path: Path) -> None:
    assert _run(tmp_path, {"adapter.py": PACKED}, "adapter.py") == "match"
    wrong = PACKED.replace("d1 = (d2 @ self.W[1, :4, :2].T) * self.h * (1 - self.h)",
                           "d1 = (d2 @ self.W[1, :4, :2].T)")
    assert _run(tmp_path, {"adapter.py": wrong}, "adapter.py") == "mismatch"


def test_one_layer_stored_the_other_way_round_through_a_transposed_path(tmp_path: Path) -> None:
    assert _run(tmp_path, {"adapter.py": ODD_LAYER}, "adapter.py") == "match"
