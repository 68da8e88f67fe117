"""Adapter for ``net.py``: ``handnet check examples/gradient_dict/adapter.py``."""

from net import TinyClassifier

from handnet.adapter import Adapter, Layer

PLANTED_BUG = True


def adapter() -> Adapter:
    net = TinyClassifier(seed=0, planted_bug=PLANTED_BUG)
    return Adapter(
        network=net,
        layers=[
            Layer("params['W1']", "params['b1']", "tanh"),
            Layer("params['W2']", "params['b2']", "tanh"),
            Layer("params['W3']", "params['b3']", "sigmoid"),
        ],
        loss="bce",
        forward=net.forward,
        weight_layout="out_in",
        bias_layout="column",
        input_layout="columns",
        gradients=net.backward,
        gradient_keys={f"params['{k}{n}']": f"d{k}{n}" for k in "Wb" for n in (1, 2, 3)},
    )
