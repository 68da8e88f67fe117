"""A stack of dense layers, each followed by its own activation.

Forward, layer ``i``: ``z_i = a_{i-1} @ W_i + b_i``, ``a_i = f_i(z_i)`` with ``a_{-1} = x``.

Backward takes an **arbitrary upstream gradient** ``g = dL/dy_hat`` (so it computes a
vector-Jacobian product, not just the gradient of one fixed loss) and walks the layers in
reverse::

    delta_i     = g_i * f_i'(z_i)         (f' written through the output a_i where the
                                           activation allows it, as the seed does; for
                                           the softmax output layer, whose Jacobian is not
                                           diagonal, its vector-Jacobian product
                                           s * (g - sum(g * s)), see handnet.softmax)
    g_{i-1}     = delta_i @ W_i.T         (computed with the weights as they are: nothing
                                           is updated during backward)

It returns a gradient for every parameter, named ``W0, b0, W1, b1, ...``, and for the input;
``parameter_gradients`` stops before the input's gradient, which training never uses.

**Dtypes, as torch's autograd.**  The upstream gradient is first cast to the dtype of the
output it is the gradient of (torch casts a gradient to its tensor's dtype: ``y_hat.backward(g)``
with a float32 ``y_hat`` and a float64 ``g`` rounds ``g`` to float32), so a float32 forward pass
gets a float32 backward pass and float32 gradients whatever the loss's dtype.  A float32 network
fed float64 inputs computes its forward pass in float64 (NumPy's promotion; torch refuses mixed
inputs) and so its backward pass and gradients too; the optimiser then updates float32
parameters from float64 gradients (see ``handnet.optim``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from handnet.activations import Activation, get_activation
from handnet.init import init_weight
from handnet.layers import Dense
from handnet.names import param_name

Array = NDArray[np.floating]


class Network:
    def __init__(self, layers: Sequence[Dense], activations: Sequence[str]) -> None:
        if len(layers) != len(activations):
            raise ValueError(
                f"{len(layers)} layers but {len(activations)} activations; give one per layer"
            )
        for i in range(1, len(layers)):
            n_out = layers[i - 1].hyperparameters["n_out"]
            n_in = layers[i].hyperparameters["n_in"]
            if n_out != n_in:
                raise ValueError(f"layer {i - 1} has {n_out} outputs but layer {i} takes {n_in}")
        self.layers = list(layers)
        self.activation_names = list(activations)
        self.activations: list[Activation] = [get_activation(a) for a in activations]
        self._z: list[Array] = []
        self._a: list[Array] = []

    @classmethod
    def create(
        cls,
        sizes: Sequence[int],
        activations: str | Sequence[str] = "sigmoid",
        init: str = "normal",
        rng: np.random.Generator | None = None,
        dtype: type = np.float64,
    ) -> Network:
        """Build a network with layer sizes ``sizes`` (input first) and fresh weights."""
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"sizes must be at least two positive integers, got {list(sizes)}")
        if rng is None:
            rng = np.random.default_rng(0)
        n_layers = len(sizes) - 1
        acts = [activations] * n_layers if isinstance(activations, str) else list(activations)
        layers = [
            Dense(init_weight(rng, sizes[i], sizes[i + 1], init, dtype),
                  np.zeros((1, sizes[i + 1]), dtype=dtype))
            for i in range(n_layers)
        ]
        return cls(layers, acts)

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].hyperparameters["n_in"]] + [
            layer.hyperparameters["n_out"] for layer in self.layers
        ]

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].parameters["W"].dtype

    @property
    def parameters(self) -> dict[str, Array]:
        """Every parameter by name (the arrays themselves, not copies), output side last."""
        return {
            param_name(key, i): value
            for i, layer in enumerate(self.layers)
            for key, value in layer.parameters.items()
        }

    @property
    def gradients(self) -> dict[str, Array]:
        return {
            param_name(key, i): value
            for i, layer in enumerate(self.layers)
            for key, value in layer.gradients.items()
        }

    def forward(self, x: Array) -> Array:
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"input must have shape (batch, {self.sizes[0]}), got {x.shape}")
        self._z, self._a = [], []
        a = x
        for layer, act in zip(self.layers, self.activations, strict=True):
            z = layer.forward(a)
            a = act.forward(z)
            self._z.append(z)
            self._a.append(a)
        return a

    __call__ = forward

    def backward(self, upstream: Array) -> tuple[dict[str, Array], Array]:
        """Gradients of ``sum(upstream * y_hat)`` for every parameter, and for the input.

        ``upstream`` is ``dL/dy_hat`` from the last ``forward``; weights are left untouched.
        """
        g = self._backprop(upstream, to_input=True)
        assert g is not None
        return self.gradients, g

    def parameter_gradients(self, upstream: Array) -> dict[str, Array]:
        """``backward`` without the input's gradient (one matrix product fewer): for training."""
        self._backprop(upstream, to_input=False)
        return self.gradients

    def _backprop(self, upstream: Array, to_input: bool) -> Array | None:
        if not self._a:
            raise RuntimeError("backward called before forward")
        if upstream.shape != self._a[-1].shape:
            raise ValueError(
                f"upstream gradient has shape {upstream.shape}, output is {self._a[-1].shape}"
            )
        g = upstream.astype(self._a[-1].dtype, copy=False)  # torch: g in y_hat's dtype
        for i in reversed(range(len(self.layers))):
            vjp = self.activations[i].vjp
            if vjp is None:  # element-wise: delta = g * f'(z)
                delta = self.activations[i].derivative(self._z[i], self._a[i])  # a fresh array
                delta *= g
            else:  # softmax: every output of a row depends on every input of it
                delta = vjp(self._a[i], g)
            self.layers[i].parameter_gradients(delta)
            if i == 0 and not to_input:
                return None
            g = self.layers[i].input_gradient(delta)
        return g

    def copy(self) -> Network:
        layers = [
            Dense(layer.parameters["W"].copy(), layer.parameters["b"].copy())
            for layer in self.layers
        ]
        return Network(layers, self.activation_names)
