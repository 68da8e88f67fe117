"""Calling somebody's code while drafting: which functions look like what, what to pass them, and
a time limit on every call.

The names below are guesses about how people name things; every guess the draft keeps is written
into it as a ``# GUESS:`` comment, so the user can see what was assumed.
"""

from __future__ import annotations

import inspect
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Preferred names first; anything else of the right arity is tried after them.
FORWARD_NAMES = ("forward", "predict", "feedforward", "feed_forward", "query", "run", "__call__",
                 "infer", "forward_pass", "forward_propagation", "output")
TRAIN_NAMES = ("train_step", "train_on_batch", "step", "train", "fit", "backprop", "backward",
               "learn", "update", "update_mini_batch", "gradients", "compute_gradients")
# Never a forward or a training step (activations, losses, I/O).
SKIP_WORDS = ("sigmoid", "tanh", "relu", "softmax", "deriv", "prime", "loss", "cost", "error",
              "accuracy", "score", "save", "load", "plot", "print", "show", "activation", "init",
              "evaluate", "test")
LR_NAMES = ("lr", "learning_rate", "learningrate", "eta", "alpha", "lrate", "step_size",
            "learning_r")
MOMENTUM_NAMES = ("momentum", "mu", "momentum_rate", "m", "beta")
EPOCH_NAMES = ("epochs", "epoch", "iterations", "iters", "n_iter", "n_epochs", "niterations",
               "num_epochs", "n_iterations")

# Constructor arguments filled by name: (words in the parameter name, value).
SIZES = (3, 5, 2)
CTOR_RULES: tuple[tuple[tuple[str, ...], Any], ...] = (  # the first rule that fits wins
    (LR_NAMES, 0.1),
    (("momentum", "mu"), 0.9),
    (EPOCH_NAMES, 1),
    (("seed", "random_state"), 0),
    (("sizes", "layers", "layer_sizes", "dims", "shape", "architecture", "topology"),
     list(SIZES)),
    (("input", "inp", "n_in", "n_x", "in_dim", "in_features", "features"), SIZES[0]),
    (("hidden", "hid", "n_h"), SIZES[1]),
    (("output", "out", "n_out", "n_y", "classes"), SIZES[2]),
)


class CallTimeout(BaseException):
    """A call into user code ran past its time limit (a ``BaseException``, so the user's own
    ``except Exception`` does not swallow it)."""


@contextmanager
def limited(seconds: float) -> Iterator[None]:
    """Raise ``CallTimeout`` in the main thread after ``seconds`` (no limit elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CallTimeout(f"did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def required_positional(fn: Callable[..., Any]) -> list[str] | None:
    """Names of the parameters ``fn`` needs (positional, without defaults); ``None`` when its
    signature cannot be read."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [p.name for p in sig.parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in sig.parameters.values()
            if p.default is not inspect.Parameter.empty}


def _rank(name: str, preferred: tuple[str, ...]) -> int:
    return preferred.index(name) if name in preferred else len(preferred)


def functions(owner: Any, names: list[str], arity: int,
              preferred: tuple[str, ...]) -> list[tuple[str, Callable[..., Any]]]:
    """``(name, function)`` of ``owner`` taking exactly ``arity`` required arguments, the
    preferred names first (activations, losses and I/O left out)."""
    out = []
    for name in names:
        low = name.lower()
        if (name.startswith("_") and name != "__call__") or any(w in low for w in SKIP_WORDS):
            continue
        try:
            fn = getattr(owner, name)
        except Exception:  # noqa: BLE001 - a property of user code may raise anything
            continue
        if callable(fn) and not isinstance(fn, type):
            req = required_positional(fn)
            if req is not None and len(req) == arity:
                out.append((name, fn))
    out.sort(key=lambda item: _rank(item[0], preferred))
    return out


def constructor_arguments(cls: type) -> dict[str, Any] | None:
    """Values for the required constructor parameters of ``cls``, filled by name
    (``CTOR_RULES``); ``None`` when one of them cannot be guessed."""
    req = required_positional(cls)
    if req is None:
        return None
    args: dict[str, Any] = {}
    for name in req:
        if name in ("self", "cls"):
            continue
        low = name.lower()
        value = next((v for words, v in CTOR_RULES if any(w in low for w in words)), None)
        if value is None:
            return None
        args[name] = list(value) if isinstance(value, list) else value
    return args


def epoch_kwargs(fn: Callable[..., Any]) -> dict[str, Any]:
    """``{name: 1}`` for an optional epochs/iterations parameter of a training function."""
    return {name: 1 for name in defaults(fn) if name.lower() in EPOCH_NAMES}
