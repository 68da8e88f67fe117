"""Calling the user's code: every array handed out is the tool's own copy, and anything the
code does — raise, ``sys.exit``, change its arguments, run out of time — is caught and named.

The check never gives user code an array it uses itself: ``x`` and ``y`` are fresh copies for
each call, and what the code returns is copied before anything else runs.  After each call the
copies are compared with what was handed out; an argument changed in place is a *fault* of the
network (``train_step changed its argument y in place``), recorded, and the comparison goes on
with the tool's own arrays, which nothing touched.
"""

from __future__ import annotations

import os
import signal
import sys
import sysconfig
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType, TracebackType
from typing import Any

import numpy as np

from handnet.adapter import AdapterError
from handnet.verdict import UserCodeError

_OURS = tuple(
    os.path.dirname(os.path.abspath(p)) + os.sep
    for p in (__file__, sys.modules["handnet"].__file__ or "")
)
_LIBRARIES = tuple({os.path.abspath(sysconfig.get_paths()[k]) + os.sep
                    for k in ("stdlib", "platstdlib", "purelib", "platlib")})


class CheckTimeout(BaseException):
    """Raised inside whatever runs when the check's time is up (a ``BaseException``, so an
    ``except Exception`` in user code does not swallow it)."""


def user_frame(tb: TracebackType | None) -> str:
    """``file:line`` of the deepest frame in the user's code (not ours, not a library's)."""
    for frame in reversed(traceback.extract_tb(tb)):
        path = os.path.abspath(frame.filename)
        if frame.filename.startswith("<") or path.startswith(_OURS + _LIBRARIES):
            continue
        return f"{os.path.basename(path)}:{frame.lineno}"
    return ""


def describe(exc: BaseException) -> str:
    """What a user exception (or exit) was, in one line."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    if isinstance(exc, CheckTimeout):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"raised {type(exc).__name__}" + (f": {text}" if text else "")


def call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call user code; an exception or exit becomes a ``UserCodeError`` naming the call and
    the user's line.  ``AdapterError`` (from the adapter's own helpers) passes through.

    Warnings the user's code emits (numpy overflow in a saturated sigmoid, ...) are shown, never
    raised, whatever filters the caller has (a test run with ``-W error`` included): the verdict
    must not depend on where the check runs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return fn(*args)
    except (AdapterError, UserCodeError, KeyboardInterrupt):
        raise
    except TypeError as exc:
        misuse = _contract_misuse(exc)
        if misuse is None:
            raise UserCodeError(f"{what} {describe(exc)}{_at(exc)}") from exc
        raise AdapterError(misuse) from exc
    except BaseException as exc:  # noqa: BLE001 - user code may raise or exit anyhow
        raise UserCodeError(f"{what} {describe(exc)}{_at(exc)}") from exc


def _at(exc: BaseException) -> str:
    where = user_frame(exc.__traceback__)
    return f" (at {where})" if where else ""


def _contract_misuse(exc: TypeError) -> str | None:
    """A wrong keyword or argument count for ``Adapter(...)``/``Layer(...)`` is a mistake in the
    adapter (exit 2, naming the fields), not the user's network failing."""
    import dataclasses

    from handnet.adapter import Adapter, Layer

    for cls in (Adapter, Layer):
        if str(exc).startswith(f"{cls.__name__}.__init__()"):
            fields = ", ".join(f.name for f in dataclasses.fields(cls) if f.init)
            return (f"{cls.__name__}(...): {str(exc).split('() ', 1)[1]}{_at(exc)}; its "
                    f"fields are: {fields} (docs/check.md lists what each means)")
    return None


def call_with_copies(
    what: str, fn: Callable[..., Any], names: Sequence[str], arrays: Sequence[np.ndarray],
    faults: list[str],
) -> Any:
    """``call(what, fn, *copies)``; an argument the code changed in place is added to
    ``faults`` (the tool's own arrays are never the ones handed out)."""
    copies = [np.array(a, copy=True) for a in arrays]
    result = call(what, fn, *copies)
    for name, original, copy in zip(names, arrays, copies, strict=True):
        same = copy.shape == original.shape and np.array_equal(copy, original, equal_nan=True)
        if not same:
            fault = (f"{what} changed its argument {name} in place: the caller's {name} is "
                     "altered (work on a copy, e.g. y = y - 0.5 instead of y -= 0.5)")
            if fault not in faults:
                faults.append(fault)
    return result


def owned(value: Any) -> Any:
    """A copy of what user code returned: an array (or a mapping of arrays) the user's code
    can no longer change behind the tool's back."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: owned(v) for k, v in value.items()}
    return value


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``CheckTimeout`` in the main thread after ``seconds`` (no limit where signals are
    not available: another thread, or ``None``)."""
    import threading

    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CheckTimeout(f"did not finish within the time limit of {seconds:g} s "
                           "(--timeout): an endless loop?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


# --- tamper evidence ------------------------------------------------------------------------

# torch's own top level rebinds some of its functions lazily (manual_seed, ...): only the
# functions the twin computes with are watched there.
TORCH_WATCHED = ("sigmoid", "tanh", "relu", "exp", "log", "log1p", "clamp", "matmul", "mm",
                 "from_numpy", "tensor", "no_grad", "sum", "mean", "where", "zeros_like")
# Classes of torch the twin computes with, beyond those the watched modules define (their
# methods are watched as well: see snapshot).
TORCH_CLASSES = ("Tensor", "nn.Module", "nn.Linear", "nn.ModuleList", "nn.Parameter")
WATCHED = ("numpy", "numpy.linalg", "torch.nn.functional", "torch.optim", "torch.autograd",
           "handnet.activations", "handnet.losses", "handnet.layers", "handnet.network",
           "handnet.optim",
           "reference.comparison.compare", "reference.comparison.tolerance",
           "reference.comparison.scales",
           "reference.twin.network", "reference.twin.losses", "reference.twin.optim",
           "reference.twin.schedule",
           "reference.checker.diagnose", "reference.checker.simulate", "reference.checker.check",
           "reference.checker.report")


def snapshot() -> dict[str, tuple[ModuleType | type, dict[str, object]]]:
    """Every public attribute of the modules the comparison relies on (the objects), and
    every attribute of the classes the twin computes with: a method replaced on a class
    (``torch.Tensor.backward = ...``) is as much a patch as a replaced module function."""
    out: dict[str, tuple[ModuleType | type, dict[str, object]]] = {}
    for name in WATCHED:
        module = sys.modules.get(name)
        if isinstance(module, ModuleType):
            out[name] = (module, {k: v for k, v in vars(module).items()
                                  if not k.startswith("_")})
            for v in out[name][1].values():
                if isinstance(v, type) and v.__module__.startswith(name.split(".")[0]):
                    out.setdefault(_class_name(v), (v, dict(vars(v))))
    torch = sys.modules.get("torch")
    if isinstance(torch, ModuleType):
        out["torch"] = (torch, {k: getattr(torch, k) for k in TORCH_WATCHED
                                if hasattr(torch, k)})
        for path in TORCH_CLASSES:
            cls: Any = torch
            for part in path.split("."):
                cls = getattr(cls, part, None)
            if isinstance(cls, type):
                out.setdefault(_class_name(cls), (cls, dict(vars(cls))))
    return out


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def tampered(before: dict[str, tuple[ModuleType | type, dict[str, object]]]) -> list[str]:
    """``module.attribute`` (or ``module.Class.attribute``) names that user code replaced or
    removed since ``before``; each is put back, so that nothing the user's code did outlives
    its check in this process."""
    changed = []
    for name, (owner, attrs) in before.items():
        if isinstance(owner, ModuleType) and sys.modules.get(name) is not owner:
            continue
        now = dict(vars(owner))
        for k, v in attrs.items():
            if now.get(k, _MISSING) is not v and not _torch_step_hook(now.get(k), v):
                changed.append(f"{name}.{k}")
                _put(owner, k, v)
        if isinstance(owner, type):  # an attribute added to a class shadows an inherited one
            for k in sorted(set(now) - set(attrs)):
                inherited = next((vars(b)[k] for b in owner.__mro__[1:] if k in vars(b)),
                                 _MISSING)
                if not _torch_step_hook(now[k], inherited):
                    changed.append(f"{name}.{k}")
                    _put(owner, k, _MISSING)
    return changed


def _torch_step_hook(new: object, old: object) -> bool:
    """``new`` is torch's own profiling wrapper around ``old``: the first optimiser of a class
    replaces the class's ``step`` with it (``Optimizer._patch_step_function``)."""
    return bool(getattr(new, "hooked", False)) and getattr(new, "__wrapped__", None) is old


def _put(owner: ModuleType | type, key: str, value: object) -> None:
    """Set (``_MISSING``: delete) ``owner.key``; a built-in type's slot cannot change."""
    try:
        if value is _MISSING:
            delattr(owner, key)
        else:
            setattr(owner, key, value)
    except (AttributeError, TypeError):
        pass


_MISSING = object()
