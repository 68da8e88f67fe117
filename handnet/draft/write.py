"""The draft adapter's text, from the probe's findings (:mod:`handnet.draft.probe`).

Every value the probe inferred rather than read is followed by a ``# GUESS:`` comment saying what
was guessed, from what evidence, and how to check it; a value nothing could be inferred for is a
placeholder that makes ``handnet check`` stop with an adapter error naming it (``lr=None``,
``train_step=None``), never a number that would pass silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from handnet.draft.lossfit import EXACT
from handnet.usermodule import module_name

LOSS_WORDS = {"half-sse": "0.5 * sum((y_hat - y)**2) summed over the batch",
              "mse": "mean((y_hat - y)**2) over every element",
              "bce": "binary cross-entropy, mean over every element"}


def render(net_file: Path, out_file: Path, found: dict[str, Any], printed: int = 0) -> str:
    """The adapter file for ``found`` (the probe's ``network``), written to ``out_file``."""
    n = found
    rel = os.path.relpath(net_file.resolve(), out_file.resolve().parent)
    by_name = n["kind"] == "class" and rel == net_file.name and net_file.stem.isidentifier()
    head = _header(net_file, found, printed)
    imports = ["import numpy as np", "", "from handnet.adapter import Adapter, Layer"]
    top: list[str] = []
    if by_name:
        imports.append(f"from {net_file.stem} import {n['name']}")
    else:
        imports = ["from pathlib import Path", "", *imports,
                   "from handnet.usermodule import load_file"]
        top = ["", f"NET_FILE = Path(__file__).resolve().parent / {rel!r}"]
        if n["kind"] == "class":
            top.append(f"{module_name(net_file)} = load_file(NET_FILE)  # imports it by path")
    body = _build(n, by_name, module_name(net_file))
    args = _arguments(n)
    lines = [head, *imports, *top, "", "", "def adapter() -> Adapter:", *body,
             "    return Adapter(", *[f"        {a}" for a in args], "    )", ""]
    return "\n".join(lines)


def _header(net_file: Path, n: dict[str, Any], printed: int) -> str:
    notes = []
    if printed:
        notes.append(f"Importing {net_file.name} printed {printed} line(s); the check imports it "
                     "too (its prints go to stderr).")
    text = (f'"""DRAFT adapter for {net_file.name}, written by `handnet adapter`.\n\n'
            "Every `# GUESS:` below was inferred by running your file on random inputs. Check "
            "each one\nagainst your code (and delete the comment) before you trust a verdict of\n"
            f"`handnet check {{this file}}`; docs/check.md explains every field.\n")
    if notes:
        text += "\n" + "\n".join(notes) + "\n"
    return text + '"""\n'


def _build(n: dict[str, Any], by_name: bool, mod: str) -> list[str]:
    out = ["    np.random.seed(0)  # GUESS: seeds np.random so every adapter() call builds the "
           "same network; if your code draws from its own generator, seed that instead"]
    if n["kind"] == "class":
        call = ", ".join(f"{k}={v!r}" for k, v in n["args"].items())
        owner = n["name"] if by_name else f"{mod}.{n['name']}"
        line = f"    net = {owner}({call})"
        if n["args"]:
            line += ("  # GUESS: constructor arguments filled in by their names: put the sizes "
                     "and settings you want checked")
        out.append(line)
    elif n["kind"] == "instance":
        out.append(f"    net = load_file(NET_FILE).{n['name']}  # GUESS: the network your file "
                   "builds at import; the file runs afresh on every adapter() call")
    else:
        out.append("    net = load_file(NET_FILE)  # GUESS: your file's module-level arrays are "
                   "the network; the file runs afresh on every adapter() call (fresh arrays)")
    if not n["deterministic"]:
        out.append("    # GUESS: two networks built this way held DIFFERENT weights: seed the "
                   "generator your code uses, or handnet check stops with an adapter error")
    return out


def _arguments(n: dict[str, Any]) -> list[str]:
    fwd = n["forward"]
    exact = fwd["error"] <= 1e-6
    acts = ", ".join(layer["activation"] for layer in n["layers"])
    if exact:
        how = (f"GUESS: this reading reproduces net.{fwd['function']} at random parameters "
               f"(max rel difference {fwd['error']:.1e}); check the order and activations")
    else:
        how = (f"GUESS: NO reading reproduced net.{fwd['function']} (closest: {acts}, max rel "
               f"difference {fwd['error']:.1e}); write the layers by hand")
    out = ["network=net,", f"layers=[  # {how}"]
    for layer in n["layers"]:
        bias = repr(layer["bias"]) if layer["bias"] else "None"
        out.append(f"    Layer({layer['weight']!r}, {bias}, {layer['activation']!r}),")
    out.append("],")
    if "softmax" in acts:
        out.append("# GUESS: a softmax output: handnet check declares only sigmoid, tanh, relu "
                   "and identity (it will say so)")
    out.append(f"weight_layout={n['weight_layout']!r}, bias_layout={n['bias_layout']!r}, "
               f"input_layout={n['input_layout']!r},")
    f = f"net.{fwd['function']}"
    if fwd["transposed"]:
        other = "columns" if n["input_layout"] == "rows" else "rows"
        out.append(f"forward=lambda X: {f}(X).T,  # GUESS: {fwd['function']} returns {other}, "
                   f"the transpose of its input's layout")
    else:
        out.append(f"forward={f},")
    out += _training(n)
    return out


def _training(n: dict[str, Any]) -> list[str]:
    t = n["train"]
    if t is None:
        return ["loss='half-sse',  # GUESS: no training function was found, so no loss could be "
                "read off an update: state yours",
                "train_step=None,  # GUESS: FILL IN a function step(x, y) that trains one batch "
                "(or gradients=... returning the gradients); none taking (x, y) changed the "
                "parameters",
                "lr=None,  # GUESS: FILL IN the learning rate your step uses"]
    fits = t["fits"]
    best = fits[0] if fits else None
    call = f"net.{t['function']}"
    if t["kwargs"]:
        kw = ", ".join(f"{k}={v!r}" for k, v in t["kwargs"].items())
        call = f"lambda X, Y: net.{t['function']}(X, Y, {kw})"
    out = [_loss_line(best, t)]
    if t["style"] == "gradients":
        out.append(f"gradients={call},  # GUESS: it returns the gradients (a mapping)")
        out.append(f"gradient_keys={t['keys']!r},  # GUESS: matched by name and shape")
    else:
        out.append(f"train_step={call},  # GUESS: one call changed the parameters "
                   "(an in-place training step)" + (f" with {', '.join(t['kwargs'])}=1"
                                                    if t["kwargs"] else ""))
        out += _optimiser(n, best, t)
    if t["batch"] == 1:
        out.append("batch=1,  # GUESS: the update of a batch fits no loss (or raised), one "
                   "sample's does: a per-sample network")
    return out


def _loss_line(best: dict[str, Any] | None, t: dict[str, Any]) -> str:
    if best is None:
        return ("loss='half-sse',  # GUESS: the update gave no evidence of a loss: state yours")
    name = best["loss"]
    what = LOSS_WORDS.get(name, name)
    unit = "lr * " if t["style"] == "train_step" else ""
    if best["residual"] < EXACT and abs(best["factor"] - 1) < EXACT:
        return (f"loss={name!r},  # GUESS: the output layer's {'update' if unit else 'gradient'}"
                f" is exactly {unit}the gradient of {what}")
    if best["residual"] < EXACT:
        return (f"loss={name!r},  # GUESS: the output layer's update is {best['factor']:.6g} x "
                f"{unit}the gradient of {what} (see lr)")
    return (f"loss={name!r},  # GUESS: the output layer's update fits no loss (closest {what}, "
            f"residual {best['residual']:.1e}): a bug at the output, or another loss")


def _optimiser(n: dict[str, Any], best: dict[str, Any] | None, t: dict[str, Any]) -> list[str]:
    out = []
    lr = n["lr"]
    fits_factor = best is not None and best["residual"] < EXACT
    if lr is not None:
        factor = best["factor"] if fits_factor and best is not None else 1.0
        expr = f"net.{lr['path']}"
        if abs(factor - 1) >= EXACT:
            # Never absorbed into the lr: a factor here may be the very bug to find (the 2 of
            # a square kept where the loss halves it), and a draft must not make it pass.
            out.append(f"lr={expr},  # GUESS: read from the attribute net.{lr['path']} "
                       f"(= {lr['value']:g} as built). NOTE: your output layer's update is "
                       f"{factor:.6g} x lr x the stated loss's gradient: if your loss really "
                       "is that multiple (e.g. a squared error without its 1/2), declare that "
                       "loss; otherwise handnet check will name the factor as a bug")
        else:
            out.append(f"lr={expr},  # GUESS: read from the attribute net.{lr['path']} "
                       f"(= {lr['value']:g} as built)")
    elif t.get("lr_default") is not None:
        out.append(f"lr={t['lr_default']!r},  # GUESS: the default of "
                   f"{t['function']}'s learning-rate parameter")
    else:
        hint = (f"; one step matched lr = {best['factor']:.6g} for this loss"
                if fits_factor and best is not None else "")
        out.append(f"lr=None,  # GUESS: FILL IN the learning rate your step uses (no attribute "
                   f"lr / learning_rate / eta / alpha found){hint}")
    m = n["momentum"]
    if m is not None and m["value"] > 0:
        out.append(f"momentum=net.{m['path']}, momentum_style='classic', bias_momentum=True,  "
                   f"# GUESS: momentum read from net.{m['path']}; classic (U = m*U + lr*g; "
                   "W -= U) or torch (v = m*v + g; W -= lr*v)? Are the biases in it?")
    return out
