"""Adapter for ``net.py``: ``handnet check examples/minibatch_list/adapter.py --steps 4``."""

from net import MiniBatchNet

from handnet.adapter import Adapter, Layer

PLANTED_BUG = True


def adapter() -> Adapter:
    net = MiniBatchNet(lr=0.1, momentum=0.9, step_size=2, gamma=0.5, planted_bug=PLANTED_BUG)
    return Adapter(
        network=net,
        layers=[Layer("weights[0]", "biases[0]", "relu"),
                Layer("weights[1]", "biases[1]", "relu"),
                Layer("weights[2]", "biases[2]", "sigmoid")],
        loss="mse",
        forward=net.forward,
        weight_layout="in_out",
        bias_layout="vector",
        input_layout="rows",
        train_step=net.fit_batch,
        start_epoch=net.set_epoch,
        lr=0.1,
        momentum=0.9,
        momentum_style="torch",
        bias_momentum=True,
        lr_epoch=2,
        lr_gamma=0.5,  # the lr is multiplied by 1 - lr_gamma = 0.5 every 2 epochs
    )
