"""A small network with a hand-written Adam, AdamW, RMSprop or Adagrad: the third base the planted
bugs edit (user code, written from the optimisers' textbook formulas, nothing from handnet's
optimisers or reference).

3-5-2, tanh then sigmoid, loss mse (the mean over every output element); weights (in, out),
samples as rows, biases (1, out).  ``train_step`` computes the gradients, then steps every
parameter with the chosen optimiser (weight decay added to the gradient, or — AdamW — applied
to the parameter).  ``start_epoch(e)`` sets the lr of epoch ``e`` from the closed form of the
chosen schedule; with ``per_update=True`` the step sets it itself from the updates done.
``tests/test_check_adaptive.py`` replaces one line of this file by the wrong line a person
writes.
"""

import math

import numpy as np

from handnet.adapter import Adapter, Layer


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class AdaptNet:
    def __init__(self, optimizer="adam", lr=0.01, betas=(0.9, 0.999), eps=None,
                 weight_decay=0.0, amsgrad=False, alpha=0.99, centered=False, momentum=0.0,
                 lr_decay=0.0, initial_accumulator_value=0.0, schedule=None, gamma=0.5,
                 milestones=(2,), t_max=10, per_update=False, dtype=np.float64):
        rng = np.random.default_rng(2)
        self.W1 = (rng.standard_normal((3, 5)) / np.sqrt(3)).astype(dtype)
        self.W2 = (rng.standard_normal((5, 2)) / np.sqrt(5)).astype(dtype)
        self.b1, self.b2 = np.zeros((1, 5), dtype), np.zeros((1, 2), dtype)
        self.names = ["W1", "b1", "W2", "b2"]
        self.opt, self.lr, self.lr0, self.wd = optimizer, lr, lr, weight_decay
        self.b1_, self.b2_ = betas
        self.eps = (1e-10 if optimizer == "adagrad" else 1e-8) if eps is None else eps
        self.amsgrad = amsgrad
        self.alpha, self.centered, self.momentum = alpha, centered, momentum
        self.lr_decay = lr_decay
        self.schedule, self.gamma, self.milestones, self.t_max = schedule, gamma, milestones, t_max
        self.per_update = per_update
        self.t = 0
        zeros = {k: np.zeros_like(getattr(self, k)) for k in self.names}
        self.m = {k: v.copy() for k, v in zeros.items()}
        self.v = {k: v.copy() for k, v in zeros.items()}
        self.vmax = {k: v.copy() for k, v in zeros.items()}
        self.s = {k: v + initial_accumulator_value for k, v in zeros.items()}
        self.a = {k: v.copy() for k, v in zeros.items()}
        self.u = {k: v.copy() for k, v in zeros.items()}

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        self.out = sigmoid(self.h @ self.W2 + self.b2)
        return self.out

    def gradients(self, x, y):
        out = self.forward(x)
        d2 = 2 * (out - y) / y.size * out * (1 - out)
        d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(axis=0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(axis=0, keepdims=True)}

    def lr_at(self, e):
        if self.schedule == "exponential":
            return self.lr0 * self.gamma ** e
        if self.schedule == "multistep":
            return self.lr0 * self.gamma ** sum(1 for m in self.milestones if m <= e)
        if self.schedule == "cosine":
            return self.lr0 * (1 + math.cos(math.pi * e / self.t_max)) / 2
        if self.schedule == "warmup":  # linear from lr0 / 4 to lr0 over 3 steps
            return self.lr0 * (0.25 + 0.75 * min(e, 3) / 3)
        return self.lr0

    def start_epoch(self, epoch):
        if not self.per_update:
            self.lr = self.lr_at(epoch)

    def train_step(self, x, y):
        grads = self.gradients(x, y)
        if self.per_update:
            self.lr = self.lr_at(self.t)
        self.t += 1
        b1, b2, alpha = self.b1_, self.b2_, self.alpha
        for k in self.names:
            p, g = getattr(self, k), grads[k]
            decoupled = self.opt == "adamw"
            if decoupled:
                p -= self.lr * self.wd * p
            else:
                g = g + self.wd * p
            if self.opt in ("adam", "adamw"):
                m = self.m[k] = b1 * self.m[k] + (1 - b1) * g
                v = self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
                if self.amsgrad:
                    v = self.vmax[k] = np.maximum(self.vmax[k], v)
                m_hat = m / (1 - b1 ** self.t)
                v_hat = v / (1 - b2 ** self.t)
                p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
            elif self.opt == "rmsprop":
                self.s[k] = alpha * self.s[k] + (1 - alpha) * g * g
                if self.centered:
                    self.a[k] = alpha * self.a[k] + (1 - alpha) * g
                    avg = np.sqrt(self.s[k] - self.a[k] ** 2) + self.eps
                else:
                    avg = np.sqrt(self.s[k]) + self.eps
                if self.momentum > 0:
                    self.u[k] = self.momentum * self.u[k] + g / avg
                    p -= self.lr * self.u[k]
                else:
                    p -= self.lr * g / avg
            else:
                clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
                self.s[k] += g * g
                p -= clr * g / (np.sqrt(self.s[k]) + self.eps)


SCHEDULES = {"warmup": "linear"}


def adapter(declare=None, **options):
    """``declare`` overrides the adapter's declared fields (e.g. ``{"optimizer": "sgd"}``)."""
    net = AdaptNet(**options)
    hyper = {
        "adam": ("betas", "eps", "amsgrad"), "adamw": ("betas", "eps", "amsgrad"),
        "rmsprop": ("alpha", "eps", "centered", "momentum"),
        "adagrad": ("lr_decay", "initial_accumulator_value", "eps"),
    }[net.opt]
    fields = {h: options[h] for h in hyper if h in options}
    schedule = options.get("schedule")
    if schedule is not None:
        fields["schedule"] = SCHEDULES.get(schedule, schedule)
        fields["schedule_per"] = "update" if net.per_update else "epoch"
        fields.update({"exponential": {"gamma": net.gamma},
                       "multistep": {"milestones": net.milestones, "gamma": net.gamma},
                       "cosine": {"t_max": net.t_max},
                       "warmup": {"start_factor": 0.25, "total_iters": 3}}[schedule])
    kw = dict(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "sigmoid")],
              loss="mse", forward=net.forward, train_step=net.train_step,
              start_epoch=net.start_epoch, lr=net.lr, optimizer=net.opt, weight_decay=net.wd,
              **fields)
    if declare and declare.get("optimizer") == "sgd":
        for h in hyper:
            kw.pop(h, None)
    kw.update(declare or {})
    return Adapter(**kw)
