"""The twin of ``handnet.Network``: a ``torch.nn.Module`` of ``torch.nn.Linear`` layers.

Layout.  handnet stores layer ``i`` as ``W_i`` of shape (in, out) with ``z = x @ W_i + b_i`` and
``b_i`` of shape (1, out).  ``torch.nn.Linear`` stores ``weight`` of shape (out, in) with
``z = x @ weight.T + bias`` and ``bias`` of shape (out,).  So::

    weight = W_i.T        bias = b_i[0]

Both directions are pure copies (a transpose and a reshape move no bits), so the round trip
handnet -> torch -> handnet is bit-exact.  The twin's dtype is the network's (float64 by
default; float32 is supported).  Parameters are named like handnet's: ``W0, b0, W1, b1, ...``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.layers import Dense
from handnet.names import bias_name, is_weight, weight_name
from handnet.network import Network
from reference.twin.activations import get_torch_activation

Array = NDArray[np.floating]

TORCH_DTYPES: dict[np.dtype, torch.dtype] = {
    np.dtype(np.float64): torch.float64,
    np.dtype(np.float32): torch.float32,
}


def torch_dtype(dtype: np.dtype | type) -> torch.dtype:
    """The torch dtype for a NumPy float dtype (float64 or float32)."""
    try:
        return TORCH_DTYPES[np.dtype(dtype)]
    except KeyError:
        raise ValueError(f"unsupported dtype {np.dtype(dtype)}; use float64 or float32") from None


class TwinNet(torch.nn.Module):
    """``Linear`` layers, each followed by its activation, as in ``handnet.Network``."""

    def __init__(self, linears: Sequence[torch.nn.Linear], activations: Sequence[str]) -> None:
        super().__init__()
        if len(linears) != len(activations):
            raise ValueError(
                f"{len(linears)} layers but {len(activations)} activations; give one per layer"
            )
        self.linears = torch.nn.ModuleList(linears)
        self._layers: list[torch.nn.Linear] = list(linears)
        self.activation_names = list(activations)
        self._activations = [get_torch_activation(a) for a in activations]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for linear, act in zip(self._layers, self._activations, strict=True):
            x = act(linear(x))
        return x

    @property
    def dtype(self) -> torch.dtype:
        """The parameters' dtype (float64 or float32)."""
        return self._layers[0].weight.dtype

    def named_handnet_parameters(self) -> dict[str, torch.Tensor]:
        """The torch parameters under handnet's names (``W{i}`` is ``weight``, i.e. ``W.T``)."""
        out: dict[str, torch.Tensor] = {}
        for i, linear in enumerate(self._layers):
            out[weight_name(i)] = linear.weight
            out[bias_name(i)] = linear.bias
        return out


def to_torch(
    net: Network, dtype: np.dtype | type | None = None, activations: Sequence[str] | None = None
) -> TwinNet:
    """A twin of ``net`` with identical weights (in ``net``'s dtype unless ``dtype`` is given)
    and ``net``'s activations, or ``activations`` where the caller declares them."""
    tdtype = torch_dtype(net.dtype if dtype is None else dtype)
    linears = []
    for layer in net.layers:
        W, b = layer.parameters["W"], layer.parameters["b"]
        linear = torch.nn.Linear(W.shape[0], W.shape[1], dtype=tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(np.ascontiguousarray(b[0])))
        linears.append(linear)
    return TwinNet(linears, net.activation_names if activations is None else activations)


def handnet_parameters(model: TwinNet) -> dict[str, Array]:
    """The twin's parameters as NumPy copies in handnet's layout (W (in, out), b (1, out))."""
    return {name: to_handnet_layout(name, p.detach()) for name, p in
            model.named_handnet_parameters().items()}


def handnet_gradients(model: TwinNet) -> dict[str, Array]:
    """The twin's ``.grad`` of every parameter in handnet's layout (zeros where unset)."""
    out = {}
    for name, p in model.named_handnet_parameters().items():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        out[name] = to_handnet_layout(name, g.detach())
    return out


def to_handnet_layout(name: str, t: torch.Tensor) -> Array:
    """A torch weight (out, in) or bias (out,) as handnet's (in, out) or (1, out) NumPy copy."""
    a = t.detach().cpu().numpy()
    if is_weight(name):
        return np.array(a.T, order="C", copy=True)
    return np.array(a.reshape(1, -1), copy=True)


def to_torch_layout(name: str, a: Array) -> torch.Tensor:
    """A handnet weight (in, out) or bias (1, out) as torch's (out, in) or (out,) tensor copy."""
    if is_weight(name):
        return torch.from_numpy(np.array(a.T, order="C", copy=True))
    return torch.from_numpy(np.array(a[0], copy=True))


def to_handnet(model: TwinNet) -> Network:
    """A new ``handnet.Network`` holding copies of the twin's weights (bit-exact)."""
    params = handnet_parameters(model)
    layers = [Dense(params[weight_name(i)], params[bias_name(i)])
              for i in range(len(model.linears))]
    return Network(layers, model.activation_names)


def copy_into(model: TwinNet, net: Network) -> None:
    """Overwrite ``net``'s weights in place with the twin's (bit-exact)."""
    if len(net.layers) != len(model.linears):
        raise ValueError(f"twin has {len(model.linears)} layers, network {len(net.layers)}")
    params = net.parameters
    for name, value in handnet_parameters(model).items():
        if params[name].shape != value.shape:
            raise ValueError(f"{name}: twin has shape {value.shape}, network {params[name].shape}")
        params[name][...] = value
