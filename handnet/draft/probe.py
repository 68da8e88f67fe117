"""Probing a network file for ``handnet adapter``: runs in its own process
(``python -m handnet.draft.probe NET.py RESULT.json``), since the file is untrusted code that may
print, plot, train, exit or hang when imported.

The probe imports the file, builds each candidate network — a class of the file (constructed
with arguments guessed from their names, ``np.random.seed(0)`` first), an instance the file
made, or the module itself when it holds arrays — and for each one:

1. sets every float array of the network to random values and calls each forward-like
   function (one argument) with random inputs as rows ``(batch, in)`` or columns ``(in, batch)``
   of each width the arrays suggest; the first output that a reading of the arrays reproduces
   (:func:`handnet.draft.find.match_forward`) fixes the layers, layouts and activations;
2. calls each training-like function (two arguments ``x, y``) on a fresh copy: one that changes
   the parameters is a ``train_step``, one that returns a mapping of arrays is ``gradients``;
   the output layer's update gives the loss (:mod:`handnet.draft.lossfit`); when the update of
   a batch fits no loss but one sample's does, the network is per-sample (``batch=1``);
3. reads the lr and momentum from attributes with the usual names.

The findings go to RESULT as JSON (:func:`handnet.draft.write.render` turns them into the draft).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from handnet.adapter import AdapterError, resolve
from handnet.atomic import atomic_write_text
from handnet.draft import calls, find, lossfit
from handnet.usermodule import load_file

CALL_SECONDS = 20.0


@dataclass
class Candidate:
    """A way to get the network: ``kind`` is ``class`` (``name(**args)``), ``instance`` (the
    file's global ``name``) or ``module`` (the file itself holds the arrays)."""

    kind: str
    name: str
    make: Callable[[], Any]
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Found:
    """What the probe found for one candidate (``score`` ranks candidates)."""

    candidate: Candidate
    notes: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    score: tuple[int, ...] = (0,)


def candidates(module: ModuleType, notes: list[str]) -> list[Candidate]:
    """Every way the file offers to get a network; classes whose constructor arguments cannot
    be guessed from their names are named in ``notes``."""
    out: list[Candidate] = []
    for name, value in vars(module).items():
        if isinstance(value, type) and value.__module__ == module.__name__:
            args = calls.constructor_arguments(value)
            if args is not None:
                out.append(Candidate("class", name, _constructor(value, args), args))
            else:
                req = [a for a in calls.required_positional(value) or [] if a != "self"]
                notes.append(f"class {name}: cannot guess constructor argument(s) "
                             f"{', '.join(req)}")
    for name, value in vars(module).items():
        if not name.startswith("_") and type(value).__module__ == module.__name__ and \
                not isinstance(value, type):
            out.append(Candidate("instance", name, _copier(value)))
    if any(a.ndim == 2 for a in find.float_arrays(module).values()):
        out.append(Candidate("module", module.__name__, _module_restorer(module)))
    return out


def _constructor(cls: type, args: dict[str, Any]) -> Callable[[], Any]:
    def make() -> Any:
        np.random.seed(0)  # noqa: NPY002 - the user's code draws from the legacy generator
        return cls(**copy.deepcopy(args))
    return make


def _copier(value: Any) -> Callable[[], Any]:
    original = copy.deepcopy(value)
    return lambda: copy.deepcopy(original)


def _module_restorer(module: ModuleType) -> Callable[[], Any]:
    """The module with every global array, list and dict put back as the import left them."""
    saved = {k: copy.deepcopy(v) for k, v in vars(module).items()
             if not k.startswith("_") and isinstance(v, np.ndarray | list | dict)}

    def make() -> Any:
        for k, v in saved.items():
            setattr(module, k, copy.deepcopy(v))
        return module
    return make


def randomize(arrays: dict[str, np.ndarray], seed: int) -> None:
    """Every writable array to random values (in place), the same ones for the same seed."""
    rng = np.random.default_rng(seed)
    for a in arrays.values():
        if a.flags.writeable:
            scale = 0.5 if a.ndim == 1 else 1.0 / np.sqrt(max(a.shape))
            a[...] = rng.normal(0.0, scale, a.shape)


def batch_size(arrays: dict[str, np.ndarray]) -> int:
    """A batch size that is none of the arrays' dimensions (so samples cannot pass for units)."""
    dims = {d for a in arrays.values() for d in a.shape}
    return next(b for b in (7, 11, 13, 17, 19, 23, 29, 31) if b not in dims and b - 1 not in dims)


def as_rows(value: Any, batch: int, input_layout: str) -> tuple[np.ndarray, bool] | None:
    """The forward's output as rows ``(batch, out)``, and whether it came transposed from the
    input's layout; ``None`` when it is no such array."""
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if out.ndim == 1 and out.shape[0] == batch:
        return out[:, None], False
    if out.ndim != 2:
        return None
    along = 0 if input_layout == "rows" else 1
    if out.shape[along] == batch:
        return (out if along == 0 else out.T), False
    if out.shape[1 - along] == batch:
        return (out.T if along == 0 else out), True
    return None


def probe_forward(cand: Candidate, found: Found) -> dict[str, Any] | None:
    """Find the forward function and the reading of the arrays that reproduces it."""
    net = cand.make()
    arrays = find.float_arrays(net)
    if not any(a.ndim == 2 for a in arrays.values()):
        found.notes.append(f"{cand.name}: no 2-D float array (no weights)")
        return None
    randomize(arrays, 1)
    batch = batch_size(arrays)
    widths: list[int] = []
    for a in arrays.values():
        if a.ndim == 2:
            for d in (*a.shape, a.shape[0] - 1, a.shape[1] - 1):
                if d >= 1 and d not in widths:
                    widths.append(d)
    rng = np.random.default_rng(2)
    best: dict[str, Any] | None = None
    tried = calls.functions(net, _names(net), 1, calls.FORWARD_NAMES)
    if not tried:
        found.notes.append(f"{cand.kind} {cand.name}: no function taking one argument x (a "
                           "forward)")
    for fname, fn in tried:
        for n_in in widths:
            for layout in ("rows", "columns"):
                x = rng.standard_normal((batch, n_in))
                try:
                    with calls.limited(CALL_SECONDS):
                        value = fn(x if layout == "rows" else np.ascontiguousarray(x.T))
                except calls.CallTimeout:
                    found.notes.append(f"{fname}(x) did not return within {CALL_SECONDS:g} s")
                    break
                except Exception:  # noqa: BLE001 - wrong width or layout: try the next
                    continue
                rows = as_rows(value, batch, layout)
                if rows is None:
                    continue
                m = find.match_forward(arrays, x, rows[0])
                if m is None:
                    continue
                found_here = {"function": fname, "input_layout": layout, "transposed": rows[1],
                              "match": m, "n_in": n_in, "arrays": arrays, "net": net}
                if m.error <= find.MATCH_RTOL:
                    return found_here
                if best is None or m.error < best["match"].error:
                    best = found_here
    if tried and best is None:
        found.notes.append(f"{cand.kind} {cand.name}: no output of "
                           f"{', '.join(n for n, _ in tried[:4])} was reproduced by its arrays")
    return best


def _names(owner: Any) -> list[str]:
    if isinstance(owner, ModuleType):
        return [k for k, v in vars(owner).items()
                if callable(v) and getattr(v, "__module__", None) == owner.__name__]
    return [k for k in dir(owner) if not k.startswith("__") or k == "__call__"]


def scalar(owner: Any, names: tuple[str, ...]) -> tuple[str, float] | None:
    """``(path, value)`` of a number attribute with one of ``names`` (one level of nesting)."""
    items = list(vars(owner).items()) if hasattr(owner, "__dict__") else []
    for key, value in items:
        if key in names and _is_number(value):
            return key, float(value)
    for key, value in items:
        if hasattr(value, "__dict__") and not isinstance(value, ModuleType | type) and \
                not callable(value):
            for sub, v in vars(value).items():
                if sub in names and _is_number(v):
                    return f"{key}.{sub}", float(v)
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.floating | np.integer) and \
        not isinstance(v, bool | np.bool_)


def _paths(m: find.Match) -> list[str]:
    return [*m.chain, *[b for b in m.biases if b]]


def _canonical(net: Any, fwd: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    m: find.Match = fwd["match"]
    arrays = {p: resolve(net, p) for p in _paths(m)}
    return find.canonical_layers(arrays, m.chain, m.biases, m.layout)


def probe_training(cand: Candidate, fwd: dict[str, Any], found: Found,
                   lr: float | None) -> dict[str, Any] | None:
    """Find the training entry point: the first two-argument function that changes the
    parameters (or returns gradients), with the loss its output layer's update fits."""
    m: find.Match = fwd["match"]
    n_in, n_out = fwd["n_in"], m.layout.sizes(fwd["arrays"][m.chain[-1]].shape)[1]
    big = batch_size(fwd["arrays"])
    probe_net = cand.make()
    for tname, fn0 in calls.functions(probe_net, _names(probe_net), 2, calls.TRAIN_NAMES):
        kwargs = calls.epoch_kwargs(fn0)
        lr_default = next((float(v) for k, v in calls.defaults(fn0).items()
                           if k.lower() in calls.LR_NAMES and _is_number(v)), None)
        use_lr = lr if lr is not None else lr_default
        tried: list[dict[str, Any]] = []
        for batch in (big, 1):
            net = cand.make()
            try:  # the parameters only: buffers stay as built (momentum at zero)
                randomize({p: resolve(net, p) for p in _paths(m)}, 1)
                before = _canonical(net, fwd)
            except AdapterError:
                return None
            rng = np.random.default_rng(3)
            x = rng.standard_normal((batch, n_in))
            y = (rng.uniform(size=(batch, n_out)) > 0.5).astype(np.float64) \
                if m.activations[-1] == "sigmoid" else rng.uniform(size=(batch, n_out))
            xs, ys = (x, y) if fwd["input_layout"] == "rows" else (x.T.copy(), y.T.copy())
            try:
                with calls.limited(CALL_SECONDS):
                    value = getattr(net, tname)(xs, ys, **kwargs)
                after = _canonical(net, fwd)
            except calls.CallTimeout:
                found.notes.append(f"{tname}(x, y) did not return within {CALL_SECONDS:g} s")
                break
            except Exception as exc:  # noqa: BLE001 - not a training step for this batch
                tried.append({"batch": batch, "error": f"{type(exc).__name__}: {exc}"[:200]})
                continue
            grads = lossfit.output_gradients(before, m.activations, x, y)
            if isinstance(value, Mapping) and value:
                keys = gradient_keys(net, m, value)
                if keys is None:
                    continue
                g_out = np.asarray(value[keys[m.chain[-1]]], dtype=np.float64)
                g_out = m.layout.canonical(g_out)[0]
                fits = lossfit.fit_losses(grads, g_out, 1.0)
                tried.append({"batch": batch, "style": "gradients", "keys": keys, "fits": fits})
            else:
                update = before[-1][0] - after[-1][0]
                if not any(np.any(b[0] != a[0]) for b, a in zip(before, after, strict=True)):
                    break
                fits = lossfit.fit_losses(grads, update, use_lr)
                tried.append({"batch": batch, "style": "train_step", "fits": fits})
            if fits and fits[0].residual < lossfit.EXACT:
                break
        done = [t for t in tried if "style" in t]
        if not done:
            if tried:
                found.notes.append(f"{tname}(x, y) raised {tried[-1]['error']}")
            continue
        good = [t for t in done if t["fits"] and t["fits"][0].residual < lossfit.EXACT]
        pick = good[0] if good else done[0]
        return {"function": tname, "kwargs": kwargs, "lr_default": lr_default, **pick}
    return None


def gradient_keys(net: Any, m: find.Match, grads: Mapping[Any, Any]) -> dict[str, str] | None:
    """Parameter path -> key of the returned mapping: the key named like the parameter
    (``dW1``, ``grad_W1``, ``W1``) with the parameter's shape, else the one key of that shape."""
    out: dict[str, str] = {}
    for p in _paths(m):
        shape = np.shape(resolve(net, p))
        leaf = p.replace("]", "").replace("'", "").split("[")[-1].split(".")[-1]
        same = [k for k, v in grads.items() if isinstance(k, str) and np.shape(v) == shape]
        named = [k for k in same if k.lstrip("d").removeprefix("grad_").lower() == leaf.lower()]
        pick = named or [k for k in same if k not in out.values()]
        if not pick:
            return None
        out[p] = pick[0]
    return out


def examine(cand: Candidate, found: Found) -> None:
    """Fill ``found`` for one candidate."""
    fwd = probe_forward(cand, found)
    if fwd is None:
        return
    m: find.Match = fwd["match"]
    net = cand.make()
    lr = scalar(net, calls.LR_NAMES)
    momentum = scalar(net, calls.MOMENTUM_NAMES)
    train = probe_training(cand, fwd, found, lr[1] if lr else None)
    exact_forward = m.error <= find.MATCH_RTOL
    found.result = {
        "kind": cand.kind, "name": cand.name, "args": cand.args,
        "deterministic": _deterministic(cand, fwd),
        "layers": [{"weight": w, "bias": b, "activation": a}
                   for w, b, a in zip(m.chain, m.biases, m.activations, strict=True)],
        "weight_layout": m.layout.weight,
        "bias_layout": m.bias_layout,
        "input_layout": fwd["input_layout"],
        "forward": {"function": fwd["function"], "transposed": fwd["transposed"],
                    "error": m.error},
        "lr": {"path": lr[0], "value": lr[1]} if lr else None,
        "momentum": {"path": momentum[0], "value": momentum[1]} if momentum else None,
        "train": _train_json(train),
    }
    found.score = (int(exact_forward), int(train is not None), len(m.chain),
                   int(bool(train and train["fits"] and train["fits"][0].exact)))


def _train_json(train: dict[str, Any] | None) -> dict[str, Any] | None:
    if train is None:
        return None
    out = {k: v for k, v in train.items() if k != "fits"}
    out["fits"] = [{"loss": f.loss, "factor": f.factor, "residual": f.residual}
                   for f in train["fits"]]
    return out


def _deterministic(cand: Candidate, fwd: dict[str, Any]) -> bool:
    """Two fresh networks hold the same parameters (``adapter()`` must build the same one)."""
    m: find.Match = fwd["match"]
    try:
        a, b = _canonical(cand.make(), fwd), _canonical(cand.make(), fwd)
    except AdapterError:
        return False
    return all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1])
               for p, q in zip(a, b, strict=True)) and bool(m.chain)


def probe(path: str) -> dict[str, Any]:
    """Everything the draft needs to know about the network file at ``path``."""
    start = time.perf_counter()
    try:
        module = load_file(path)
    except BaseException as exc:  # noqa: BLE001 - the user's file may raise or exit anyhow
        return {"import_error": _describe(exc), "import_seconds": time.perf_counter() - start}
    seconds = time.perf_counter() - start
    sys.stdout.flush()
    sys.stderr.flush()
    try:  # how much the import printed (stdout and stderr share one log file)
        printed = os.lseek(1, 0, os.SEEK_CUR)
    except OSError:
        printed = 0
    results: list[Found] = []
    skipped: list[str] = []
    for cand in candidates(module, skipped):
        found = Found(cand)
        try:
            examine(cand, found)
        except calls.CallTimeout as exc:
            found.notes.append(f"{cand.name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - building or calling it failed: say so
            found.notes.append(f"{cand.name}: {type(exc).__name__}: {exc}"[:300])
        results.append(found)
    usable = [f for f in results if f.result]
    notes = [n for f in results for n in f.notes] + skipped
    if not usable:
        return {"import_seconds": seconds, "import_output_bytes": printed, "network": None,
                "notes": notes,
                "candidates": [f"{c.kind} {c.name}" for c in (f.candidate for f in results)]}
    best = max(usable, key=lambda f: f.score)
    return {"import_seconds": seconds, "import_output_bytes": printed, "network": best.result,
            "notes": best.notes,
            "others": [f"{f.candidate.kind} {f.candidate.name}" for f in usable
                       if f is not best]}


def _describe(exc: BaseException) -> str:
    import traceback

    if isinstance(exc, SystemExit):
        what = f"called sys.exit({exc.code!r})"
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = f"raised {type(exc).__name__}" + (f": {text}" if text else "")
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and "handnet" not in Path(f.filename).parts]
    return what + (f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
                   if frames else "")


def main(argv: list[str]) -> int:
    """``python -m handnet.draft.probe NET.py RESULT.json``"""
    path, result = argv[0], Path(argv[1])
    try:
        findings = probe(path)
    except BaseException as exc:  # noqa: BLE001 - report, never a traceback
        findings = {"probe_error": f"{type(exc).__name__}: {exc}"}
    atomic_write_text(result, json.dumps(findings, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
