"""Adapter for ``net.py``: ``handnet check examples/per_sample/adapter.py [--steps K]``."""

from net import SimpleNet

from handnet.adapter import Adapter, Layer

PLANTED_BUG = True
LR_EPOCH = 2  # the lr halves every 2 epochs here, so a short --steps run crosses a decay


def adapter() -> Adapter:
    net = SimpleNet(seed=0, lr=0.5, momentum=0.9, lr_epoch=LR_EPOCH, lr_gamma=0.5,
                    planted_bug=PLANTED_BUG)
    return Adapter(
        network=net,
        layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid"),
                Layer("W3", "b3", "sigmoid")],
        loss="half-sse",
        forward=net.forward,
        train_step=net.train_step,
        lr=0.5,
        momentum=0.9,
        momentum_style="classic",
        bias_momentum=False,
        start_epoch=net.start_epoch,
        lr_epoch=LR_EPOCH,
        lr_gamma=0.5,
        batch=1,  # the backward handles one sample at a time
    )
