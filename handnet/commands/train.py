"""``handnet train``: train one network from the command line.

Every option defaults to the seed configuration (``handnet.config.Config()``), so a bare
``handnet train`` is the seed network on the chessboard with classic momentum for 6000 epochs.
The run is built by ``handnet.train.build(config)`` and trained by ``handnet.train.train``; the
JSON report is assembled by ``build_report`` (extend it there).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import numpy as np

from handnet import fast
from handnet.activations import ACTIVATIONS
from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.config import OPTIMIZERS, SCHEDULE_PER, SCHEDULES, Config
from handnet.data import DATASETS
from handnet.health import assess, warnings
from handnet.init import INITS
from handnet.losses import LOSSES
from handnet.optim import STYLES
from handnet.outputs import Outputs
from handnet.plotnames import PLOT_FILES
from handnet.train import Run, accuracy, build

SEED = Config()
# A diverging run overflows: the command says so in one line (see ``run``) instead of a
# screenful of NumPy warnings.
def quiet_numerics() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train",
        help="train one network (defaults: the seed configuration)",
        description=(
            "Train one network. Every default is the seed configuration: 2-100-50-10-1, "
            "sigmoid everywhere, N(0, 1) weights, half sum-of-squares loss, one sample per "
            "update, lr 0.01, classic momentum 0.9 on weights only, lr halved every 1500 "
            "epochs, 6000 epochs, on the chessboard."
        ),
    )
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, default=SEED.dataset,
                      help=f"data set (default {SEED.dataset}); xor-easy is the "
                           "fixed 21-point set, used as train and test set")
    data.add_argument("--classes", type=int, default=SEED.classes, metavar="K",
                      help="number of classes K of --dataset spirals (default 2; the other data "
                           "sets have 2). The network gets one output per class (one-hot "
                           "targets, argmax accuracy) when K > 2 or the loss is a class loss")
    data.add_argument("--n-train", type=int, default=SEED.n_train, metavar="N",
                      help=f"training points (default {SEED.n_train}; ignored by xor-easy)")
    data.add_argument("--n-test", type=int, default=SEED.n_test, metavar="N",
                      help=f"test points (default {SEED.n_test}; ignored by xor-easy)")
    data.add_argument("--seed", type=int, default=SEED.seed, metavar="S",
                      help=f"one seed for data, initial weights and shuffling "
                           f"(default {SEED.seed})")

    net = p.add_argument_group("network")
    net.add_argument("--hidden", default=",".join(map(str, SEED.hidden)), metavar="SIZES",
                     help="hidden layer sizes, comma separated (seed: "
                          f"{','.join(map(str, SEED.hidden))})")
    net.add_argument("--activation", default=SEED.activation, metavar="NAME[,NAME...]",
                     help=f"one of {', '.join(ACTIVATIONS)} for every layer (the output's "
                          "follows a loss on logits or probabilities: identity for softmax-ce "
                          "and bce-logits, softmax for ce, sigmoid for bce), or a comma list "
                          f"with one per layer, output last (seed: {SEED.activation})")
    net.add_argument("--init", choices=INITS, default=SEED.init,
                     help=f"weight initialisation; biases start at zero (seed: {SEED.init}, "
                          "i.e. W ~ N(0, 1))")
    net.add_argument("--loss", choices=tuple(LOSSES), default=SEED.loss,
                     help="squared error: half-sse = 0.5 * sum((y_hat - y)**2) over the "
                          "batch, sse = the sum without 0.5, mse = mean over every element, "
                          "half-mse = 0.5 * mse; bce / bce-sum = binary cross-entropy on "
                          "probabilities, mean / sum; bce-logits / bce-logits-sum = the same on "
                          "logits; softmax-ce / softmax-ce-sum = softmax cross-entropy on "
                          "logits, mean over the batch / sum; ce / ce-sum = cross-entropy on a "
                          "softmax output layer (the separate path); see docs/losses.md "
                          f"(seed: {SEED.loss})")

    opt = p.add_argument_group(
        "optimiser", "each optimiser is torch's (handnet/optim/, docs/optimisers.md); an option "
        "given to an optimiser that does not use it is an error")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, default=SEED.optimizer,
                     help="sgd = no momentum and (unless --lr-gamma) a constant lr, as the "
                          "seed's plain-SGD row; momentum = SGD with momentum and step decay; "
                          "adam, adamw, rmsprop, adagrad = torch.optim's, constant lr unless "
                          f"--schedule (default {SEED.optimizer})")
    opt.add_argument("--lr", type=float, default=SEED.lr, metavar="X",
                     help=f"initial learning rate (seed: {SEED.lr})")
    opt.add_argument("--weight-decay", type=float, default=SEED.weight_decay, metavar="W",
                     help="L2 weight decay added to the gradient (adamw: decoupled, "
                          f"p *= 1 - lr * W) (seed: {SEED.weight_decay}; note torch's AdamW "
                          "defaults to 0.01, handnet to 0 for every optimiser)")
    opt.add_argument("--no-bias-decay", dest="bias_decay", action="store_false",
                     help="no weight decay on the biases (torch: a second parameter group)")
    opt.add_argument("--momentum", type=float, default=None, metavar="M",
                     help="momentum in [0, 1) for --optimizer momentum (seed: 0.9) or rmsprop "
                          "(default 0)")
    opt.add_argument("--momentum-style", choices=STYLES, default=SEED.momentum_style,
                     help="SGD momentum: classic: U = m*U + lr*g, W -= U (the seed); torch: "
                          f"v = m*v + g, W -= lr*v (torch.optim.SGD) (default "
                          f"{SEED.momentum_style})")
    opt.add_argument("--bias-momentum", action="store_true",
                     help="SGD: give the biases momentum too (the seed does not: plain SGD on "
                          "biases)")
    opt.add_argument("--nesterov", action="store_true",
                     help="SGD: Nesterov momentum as torch defines it (seed: off)")
    opt.add_argument("--betas", type=float, nargs=2, default=None, metavar=("B1", "B2"),
                     help="adam, adamw: moment decay rates (default 0.9 0.999)")
    opt.add_argument("--eps", type=float, default=None, metavar="E",
                     help="adam, adamw, rmsprop: added to the denominator's square root "
                          "(default 1e-8); adagrad: likewise (default 1e-10)")
    opt.add_argument("--amsgrad", action="store_true",
                     help="adam, adamw: divide by the running maximum of the second moment")
    opt.add_argument("--alpha", type=float, default=None, metavar="A",
                     help="rmsprop: weight of the old square average (default 0.99)")
    opt.add_argument("--centered", action="store_true",
                     help="rmsprop: divide by the gradient's estimated standard deviation")
    opt.add_argument("--lr-decay", type=float, default=None, metavar="D",
                     help="adagrad: lr / (1 + (t - 1) * D) at step t (default 0)")
    opt.add_argument("--initial-accumulator-value", type=float, default=None, metavar="V",
                     help="adagrad: the sum of squared gradients starts at V (default 0)")

    sched = p.add_argument_group(
        "schedule", "lr schedules are torch.optim.lr_scheduler's, to the bit; an option given "
        "to a schedule that does not use it is an error")
    sched.add_argument("--schedule", choices=SCHEDULES, default=SEED.schedule,
                       help="step = the seed's (StepLR via --lr-epoch, --lr-gamma); constant; "
                            "multistep (MultiStepLR: --milestones, --gamma); exponential "
                            "(ExponentialLR: --gamma); cosine (CosineAnnealingLR: --t-max, "
                            "--eta-min); linear (LinearLR, a warm-up: --start-factor, "
                            f"--end-factor, --total-iters) (default {SEED.schedule})")
    sched.add_argument("--schedule-per", choices=SCHEDULE_PER, default=SEED.schedule_per,
                       help="step the schedule after every epoch (the seed) or every update; "
                            "its step counts (--lr-epoch, --milestones, --t-max, "
                            f"--total-iters) count the same unit (default {SEED.schedule_per})")
    sched.add_argument("--lr-epoch", type=int, default=SEED.lr_epoch, metavar="E",
                       help=f"step: decay the lr every E steps, 0 = never (seed: {SEED.lr_epoch})")
    sched.add_argument("--lr-gamma", type=float, default=SEED.lr_gamma, metavar="G",
                       help="step: lr *= 1 - G at each decay, so lr during epoch e is "
                            "lr * (1 - G) ** (e // E) (default: 0.5 with momentum, the seed; "
                            "0, a constant lr, otherwise)")
    sched.add_argument("--milestones", type=int, nargs="+", default=(), metavar="T",
                       help="multistep: the steps at which lr *= gamma")
    sched.add_argument("--gamma", type=float, default=None, metavar="G",
                       help="multistep (default 0.1), exponential (required): the factor, "
                            "torch's meaning (lr *= G)")
    sched.add_argument("--t-max", type=int, default=None, metavar="T",
                       help="cosine (required): steps from lr down to --eta-min")
    sched.add_argument("--eta-min", type=float, default=None, metavar="X",
                       help="cosine: the lowest lr (default 0)")
    sched.add_argument("--start-factor", type=float, default=None, metavar="F",
                       help="linear: lr * F at the start (default 1/3)")
    sched.add_argument("--end-factor", type=float, default=None, metavar="F",
                       help="linear: lr * F after --total-iters steps (default 1)")
    sched.add_argument("--total-iters", type=int, default=None, metavar="N",
                       help="linear: steps of the ramp (default 5)")

    opt.add_argument("--epochs", type=int, default=SEED.epochs, metavar="N",
                     help=f"passes over the training set (seed: {SEED.epochs})")
    opt.add_argument("--batch-size", type=int, default=SEED.batch_size, metavar="B",
                     help=f"samples per update, 0 = full batch (seed: {SEED.batch_size}, "
                          "one sample per update)")
    opt.add_argument("--shuffle", action="store_true",
                     help="visit the training set in a fresh seeded order every epoch "
                          "(seed: off, fixed order)")

    out = p.add_argument_group("output")
    out.add_argument("--print-interval", type=int, default=SEED.print_interval, metavar="K",
                     help=f"a progress line every K epochs, 0 = none (seed: {SEED.print_interval})")
    out.add_argument("--init-from", metavar="FILE",
                     help="start from the weights in a checkpoint written by --save (its layer "
                          "sizes and activations must match this run's)")
    out.add_argument("--plot", metavar="DIR",
                     help="write predictions.png, loss.png, accuracy.png and lr.png into DIR "
                          "(created if needed)")
    out.add_argument("--save", metavar="FILE",
                     help="save the trained weights and the configuration to FILE (.npz)")
    out.add_argument("--json", metavar="PATH|-",
                     help="write a JSON report (accuracies, loss, time, config, per-epoch "
                          "history) to PATH, or to stdout with '-' (stdout then holds only it)")
    out.add_argument("--quiet", action="store_true",
                     help="no progress lines, bar or summary")
    out.add_argument("--engine", choices=("auto", "compiled", "plain"), default="auto",
                     help="compiled: handnet.fast (numba; the same results as plain, verified "
                          "against the torch twin like it, much faster); plain: the NumPy path "
                          "that reads like the math; auto (default): compiled where available")
    out.add_argument("--shadow", action="store_true",
                     help="train the PyTorch twin (reference/) in lockstep over the same batch "
                          "order and report the largest weight deviation per epoch (needs torch; "
                          "the twin's per-sample steps are several times slower than handnet's)")
    p.set_defaults(func=run)


# --- arguments -> Config ---------------------------------------------------------------------

def parse_hidden(text: str) -> tuple[int, ...]:
    """``"100,50,10"`` -> ``(100, 50, 10)``; anything else is a ``UsageError``."""
    parts = [s.strip() for s in text.split(",")]
    try:
        sizes = tuple(int(s) for s in parts)
    except ValueError:
        raise UsageError(
            f"--hidden must be positive integers separated by commas (e.g. 100,50,10), "
            f"got {text!r}"
        ) from None
    if any(h < 1 for h in sizes):
        raise UsageError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def parse_activation(text: str, n_layers: int) -> str | tuple[str, ...]:
    """One name for every layer, or a comma list with one name per layer."""
    names = [s.strip() for s in text.split(",")]
    for name in names:
        if not name:
            raise UsageError(f"--activation has an empty name in {text!r}")
        if name not in ACTIVATIONS:
            raise UsageError(
                f"--activation: unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}"
            )
    if len(names) == 1:
        return names[0]
    if len(names) != n_layers:
        raise UsageError(
            f"--activation lists {len(names)} names but the network has {n_layers} layers "
            f"(one per hidden layer, plus the output)"
        )
    return tuple(names)


def _finite(flag: str, value: float) -> float:
    if not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number, got {value}")
    return value


def config_from_args(args: argparse.Namespace) -> Config:
    """The ``Config`` the arguments describe; bad values raise ``ValueError`` (one line)."""
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.epochs < 1:
        raise UsageError(f"--epochs must be a positive integer, got {args.epochs}")
    if not _finite("--lr", args.lr) > 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    for flag in ("momentum", "eps", "alpha", "lr_decay", "initial_accumulator_value", "gamma",
                 "eta_min", "start_factor", "end_factor"):
        if getattr(args, flag) is not None:
            _finite("--" + flag.replace("_", "-"), getattr(args, flag))
    for beta in args.betas or ():
        _finite("--betas", beta)
    _finite("--weight-decay", args.weight_decay)
    if args.weight_decay < 0:
        raise UsageError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if args.lr_gamma is not None:
        _finite("--lr-gamma", args.lr_gamma)
    hidden = parse_hidden(args.hidden)
    try:
        return _config(args, hidden)
    except ValueError as exc:
        raise UsageError(as_flag(str(exc))) from None


def as_flag(message: str) -> str:
    """``"n_train must be positive"`` -> ``"--n-train must be positive"``: name the flag."""
    field, sep, rest = message.partition(" ")
    if sep and field in Config.__dataclass_fields__:
        return f"--{field.replace('_', '-')} {rest}"
    return message


def _config(args: argparse.Namespace, hidden: tuple[int, ...]) -> Config:
    return Config(
        dataset=args.dataset,
        optimizer=args.optimizer,
        momentum_style=args.momentum_style,
        momentum=args.momentum,
        bias_momentum=args.bias_momentum,
        nesterov=args.nesterov,
        weight_decay=args.weight_decay,
        bias_decay=args.bias_decay,
        betas=tuple(args.betas) if args.betas else None,
        eps=args.eps,
        amsgrad=args.amsgrad,
        alpha=args.alpha,
        centered=args.centered,
        lr_decay=args.lr_decay,
        initial_accumulator_value=args.initial_accumulator_value,
        lr=args.lr,
        schedule=args.schedule,
        schedule_per=args.schedule_per,
        lr_epoch=args.lr_epoch,
        lr_gamma=args.lr_gamma,
        milestones=tuple(args.milestones),
        gamma=args.gamma,
        t_max=args.t_max,
        eta_min=args.eta_min,
        start_factor=args.start_factor,
        end_factor=args.end_factor,
        total_iters=args.total_iters,
        epochs=args.epochs,
        batch_size=args.batch_size,
        hidden=hidden,
        activation=parse_activation(args.activation, len(hidden) + 1),
        loss=args.loss,
        init=args.init,
        seed=args.seed,
        shuffle=args.shuffle,
        print_interval=args.print_interval,
        n_train=args.n_train,
        n_test=args.n_test,
        classes=args.classes,
    )


# --- progress --------------------------------------------------------------------------------

class Progress:
    """The ``on_epoch_end`` callback: a line every ``interval`` epochs, and a tqdm bar."""

    def __init__(self, config: Config, verbose: bool) -> None:
        self.epochs = config.epochs
        self.interval = config.print_interval if verbose else 0
        self.bar: Any = None
        if verbose and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=config.epochs, unit="epoch", file=sys.stderr, leave=False,
                            dynamic_ncols=True)

    def line(self, epoch: int, run: Run) -> str:
        h = run.history
        width = len(str(self.epochs))
        return (f"epoch {epoch + 1:>{width}}/{self.epochs}  loss {h.loss[-1]:.6f}  "
                f"train acc {h.train_accuracy[-1]:.4f}  lr {h.lr[-1]:.6g}")

    def __call__(self, epoch: int, order: Any, run: Run) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{run.history.loss[-1]:.4g}", refresh=False)
        done = epoch + 1
        if self.interval and (done % self.interval == 0 or done == self.epochs):
            text = self.line(epoch, run)
            if self.bar is not None:
                self.bar.write(text, file=sys.stdout)
            else:
                print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --- the report ------------------------------------------------------------------------------

def _json_safe(value: Any) -> Any:
    """NaN and infinities (a diverged run) become ``null``: the output stays strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def build_report(run: Run, seconds: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``--json`` object for a finished run; ``extra`` keys are added (and may override).

    ``train_accuracy``/``test_accuracy`` are fractions in [0, 1] of the final network;
    ``final_loss`` is the last epoch's mean per-sample training loss; ``seconds`` is training
    wall time; ``history`` holds one entry per epoch.
    """
    c, data, h = run.config, run.data, run.history
    report: dict[str, Any] = {
        "dataset": c.dataset,
        "optimizer": c.optimizer,
        "epochs": len(h.loss),
        "seed": c.seed,
        "train_accuracy": accuracy(run.network, data.x_train, data.y_train),
        "test_accuracy": accuracy(run.network, data.x_test, data.y_test),
        "final_loss": h.loss[-1] if h.loss else None,
        "seconds": seconds,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
        "sizes": run.network.sizes,
        "config": c.to_dict(),
        "history": {
            "loss": list(h.loss),
            "train_accuracy": list(h.train_accuracy),
            "lr": list(h.lr),
            "test_epochs": list(h.test_epochs),
            "test_loss": list(h.test_loss),
            "test_accuracy": list(h.test_accuracy),
        },
    }
    if extra:
        report.update(extra)
    return report


def write_report(report: dict[str, Any], destination: str) -> None:
    """To stdout for ``-`` (one line), else to a file, atomically."""
    safe = _json_safe(report)
    if destination == "-":
        print(json.dumps(safe, allow_nan=False), flush=True)
    else:
        atomic_write_text(destination, json.dumps(safe, indent=2, allow_nan=False) + "\n")


# --- the command -----------------------------------------------------------------------------

def _init_from(run: Run, path: str) -> None:
    from handnet.checkpoint import load

    network, _ = load(path)
    if network.sizes != run.config.sizes or network.activation_names != run.config.activations:
        raise UsageError(
            f"--init-from {path}: its network is {network.sizes} with "
            f"{','.join(network.activation_names)}, this run's is {run.config.sizes} with "
            f"{','.join(run.config.activations)}"
        )
    if network.dtype != run.network.dtype:
        raise UsageError(f"--init-from {path}: weights are {network.dtype}, "
                         f"this run uses {run.network.dtype}")
    run.network = network


def _shadow(run: Run) -> Any:
    """The torch twin's lockstep callback (imported here: handnet itself never needs torch)."""
    from handnet.twin import import_twin

    return import_twin("reference.experiments.shadow", "--shadow").shadow(run)


def _engine(choice: str, run: Run) -> str:
    """The engine ``--engine`` asks for, as ``"compiled"`` or ``"plain"``."""
    if choice == "plain":  # never loads numba (nor needs its cache)
        return "plain"
    usable = fast.available() and fast.supports(run)
    if choice == "compiled" and not usable:
        why = fast.why_unavailable() or ("it trains float64 networks with element-wise "
                                         f"activations and the losses {', '.join(fast.LOSS_CODES)}"
                                         ", by SGD with the lr set per epoch, only")
        raise UsageError(f"--engine compiled: the compiled path cannot train this run ({why})")
    if choice == "auto":
        return "compiled" if usable else "plain"
    return choice


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    verbose = not (args.quiet or args.json == "-")
    Outputs(files={"--save": args.save, "--json": args.json},
            dirs={"--plot": (args.plot, PLOT_FILES)},
            inputs={"--init-from": args.init_from}).check()
    try:
        run_ = build(config)
    except MemoryError:
        raise UsageError(f"a network of sizes {config.sizes} does not fit in memory") from None
    if args.init_from:
        _init_from(run_, args.init_from)

    progress = Progress(config, verbose)
    callback: Any = progress
    twin: Any = None
    if args.shadow:
        twin = _shadow(run_)

        def callback(epoch: int, order: Any, r: Run) -> None:
            twin(epoch, order, r)
            progress(epoch, order, r)

    engine = _engine(args.engine, run_)
    note = fast.plain_path_note() if args.engine == "auto" else None
    if note and not args.quiet:
        print(f"handnet: {note}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        with quiet_numerics():
            fast.train(run_, callback, fast=engine == "compiled")
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    health = assess(run_)
    problems = warnings(health, config)
    for line in problems:  # even under --quiet: the figures below would mislead without it
        print(f"handnet: warning: {line}", file=sys.stderr)

    extra: dict[str, Any] = {"engine": engine, "diverged": health.diverged_at is not None,
                             "health": health.to_dict(), "warnings": problems}
    if twin is not None:
        extra["shadow"] = {"summary": twin.summary(), "epochs": twin.records}
    if args.save:
        from handnet.checkpoint import save

        extra["checkpoint"] = str(save(args.save, run_.network, config))
    if args.plot:
        from handnet.plots import write_plots

        title = f"{config.dataset} · {config.optimizer} · {config.epochs} epochs"
        with quiet_numerics():
            paths = write_plots(args.plot, run_.network, run_.data, run_.history, title=title,
                                loss_name=config.loss)
        extra["plots"] = [str(p) for p in paths]
    with quiet_numerics():
        report = build_report(run_, seconds, extra)
    if args.json:
        write_report(report, args.json)
    if verbose:
        print(f"{config.dataset} · {config.optimizer}: test accuracy "
              f"{report['test_accuracy']:.4f}, train accuracy {report['train_accuracy']:.4f}, "
              f"final loss {report['final_loss']:.6g}, {seconds:.1f} s ({engine} engine)")
        if twin is not None:
            summary = twin.summary()
            agree = "yes" if summary["final_test_predictions_agree"] else "NO"
            print(f"shadow (torch twin): final max relative weight difference "
                  f"{summary['final_max_rel_weight_diff']:.3e}, worst over all epochs "
                  f"{summary['worst_max_rel_weight_diff']:.3e}; "
                  f"every test prediction agrees: {agree}")
        if "checkpoint" in extra:
            print(f"saved {extra['checkpoint']}")
        if "plots" in extra:
            print(f"plots in {args.plot}")
    return 0
