"""Save and load a network with its configuration as one ``.npz`` file.

Layout (format ``handnet-checkpoint``, version 1), every entry a plain (non-object) array so the
file loads with ``allow_pickle=False``:

* ``W0, b0, W1, b1, ...``: the parameters exactly as the network holds them (dtype kept; the
  ``.npy`` entries store the raw bytes, so a round trip is bit-exact);
* ``format``: the string ``"handnet-checkpoint"``; ``version``: the integer format version;
* ``config``: ``Config.to_dict()`` as a JSON string;
* ``activations``: the per-layer activation names as a JSON list.

``load`` checks everything before it reads any parameter's data (``handnet.npz``: from the zip
directory and each ``.npy`` header; a crafted file cannot make it unpack gigabytes, allocate an
8 TB shape or recurse through a deep configuration): the file is a zip of ``.npy`` entries, none
encrypted or compressed other than stored/deflated, at most ``MAX_ENTRIES`` of them and
``MAX_BYTES`` of parameter data, it is ours and of a version we read, no entry is missing or
unknown, the weights chain (``W_i.shape[1] == W_{i+1}.shape[0]``, ``b_i.shape == (1,
W_i.shape[1])``), and they fit the stored configuration.  Any failure is a ``ValueError`` (or
``OSError`` for a file that cannot be opened) whose message names the file and the problem.
``save`` writes atomically (a temporary file in the same directory, then ``os.replace``), so a
crash never leaves a partial checkpoint behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from handnet.atomic import atomic_write
from handnet.config import Config
from handnet.layers import Dense
from handnet.names import all_names, bias_name, weight_name
from handnet.network import Network
from handnet.npz import Archive, open_npz

FORMAT = "handnet-checkpoint"
VERSION = 1
META_KEYS = ("format", "version", "config", "activations")
MAX_LAYERS = 1000
MAX_ENTRIES = 2 * MAX_LAYERS + len(META_KEYS)
MAX_BYTES = 2**30  # parameter data this handnet loads (the seed network: 43 kB)
MAX_META_BYTES = 2**20  # one metadata string (a configuration is about 1 kB)

Array = NDArray[np.floating]


def _mismatch(sizes: list[int], activations: list[str], config: Config) -> str | None:
    """Why a network of ``sizes`` and ``activations`` does not fit ``config`` (None: it does)."""
    if sizes != config.sizes:
        return f"network sizes {sizes} differ from the configuration's {config.sizes}"
    if activations != config.activations:
        return (f"network activations {activations} differ from the configuration's "
                f"{config.activations}")
    return None


def save(path: str | os.PathLike[str], network: Network, config: Config) -> Path:
    """Write ``network`` and ``config`` to ``path`` (an ``.npz`` file), atomically."""
    problem = _mismatch(list(network.sizes), list(network.activation_names), config)
    if problem is not None:
        raise ValueError(f"cannot save checkpoint {path}: {problem}")
    arrays: dict[str, Any] = dict(network.parameters)
    arrays["format"] = np.array(FORMAT)
    arrays["version"] = np.array(VERSION, dtype=np.int64)
    arrays["config"] = np.array(json.dumps(config.to_dict(), sort_keys=True))
    arrays["activations"] = np.array(json.dumps(list(network.activation_names)))

    def write(f: BinaryIO) -> None:
        np.savez(f, allow_pickle=False, **arrays)

    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise OSError(f"cannot save checkpoint {path}: {exc.strerror or exc}") from None


def _open(path: Path) -> Archive:
    """The archive with every member's headers checked (``handnet.npz``); nothing read yet."""
    if not path.exists():
        raise OSError(f"checkpoint {path}: no such file")
    if path.is_dir():
        raise OSError(f"checkpoint {path}: is a directory, not a file")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise OSError(f"checkpoint {path}: cannot read it ({exc.strerror or exc})") from None
    if not magic:
        raise ValueError(f"checkpoint {path}: the file is empty")
    if magic == b"\x93NUMPY":
        raise ValueError(f"checkpoint {path}: a single .npy array, not an .npz archive")
    if not magic.startswith(b"PK"):
        raise ValueError(f"checkpoint {path}: not an .npz archive (no zip signature)")
    return open_npz(path, f"checkpoint {path}: ", MAX_ENTRIES, MAX_BYTES)


def _metadata(archive: Archive, path: Path) -> dict[str, np.ndarray]:
    """The metadata entries present, read (each a scalar of at most ``MAX_META_BYTES``)."""
    meta = {}
    for key in META_KEYS:
        entry = archive.entries.get(key)
        if entry is None:
            continue
        if entry.shape != () or entry.nbytes > MAX_META_BYTES:
            raise ValueError(f"checkpoint {path}: entry {key!r} is not a scalar of at most "
                             f"{MAX_META_BYTES} bytes")
        meta[key] = archive.read(key)
    return meta


def _string(arrays: dict[str, np.ndarray], key: str, path: Path) -> str:
    value = arrays[key]
    if value.shape != () or value.dtype.kind != "U":
        raise ValueError(f"checkpoint {path}: entry {key!r} is not a string")
    return str(value[()])


def _activation_names(arrays: dict[str, np.ndarray], path: Path) -> list[str]:
    """Check the metadata; return the activation names (one per layer)."""
    if "format" not in arrays:
        raise ValueError(f"checkpoint {path}: not a handnet checkpoint (no 'format' entry)")
    fmt = _string(arrays, "format", path)
    if fmt != FORMAT:
        raise ValueError(f"checkpoint {path}: not a handnet checkpoint (format {fmt!r})")
    missing = [k for k in META_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"checkpoint {path}: missing entries {', '.join(missing)}")
    version = arrays["version"]
    if version.shape != () or version.dtype.kind not in "iu":
        raise ValueError(f"checkpoint {path}: entry 'version' is not an integer")
    if int(version) != VERSION:
        raise ValueError(
            f"checkpoint {path}: format version {int(version)}, this handnet reads {VERSION}"
        )
    try:
        names = json.loads(_string(arrays, "activations", path))
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint {path}: entry 'activations' is not JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"checkpoint {path}: entry 'activations' is nested too deeply") from None
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise ValueError(f"checkpoint {path}: entry 'activations' is not a list of names")
    return names


def _check_layers(entries: dict[str, Any], n_layers: int, path: Path) -> list[int]:
    """Names, dtypes and shapes of the parameters, from their headers; the layer sizes."""
    expected = set(all_names(n_layers))
    present = set(entries) - set(META_KEYS)
    missing = sorted(expected - present)
    if missing:
        raise ValueError(
            f"checkpoint {path}: missing arrays {', '.join(missing)} "
            f"(the activations list {n_layers} layers)"
        )
    unknown = sorted(present - expected)
    if unknown:
        raise ValueError(f"checkpoint {path}: unknown entries {', '.join(unknown)}")
    sizes: list[int] = []
    for i in range(n_layers):
        W, b = entries[weight_name(i)], entries[bias_name(i)]
        for name, a in ((weight_name(i), W), (bias_name(i), b)):
            if a.dtype.kind != "f":
                raise ValueError(f"checkpoint {path}: {name} has dtype {a.dtype}, not a float")
        if W.ndim != 2 or b.shape != (1, W.shape[1]):
            raise ValueError(
                f"checkpoint {path}: layer {i} has W{i} of shape {W.shape} and b{i} of shape "
                f"{b.shape}; expected (in, out) and (1, out)"
            )
        if sizes and sizes[-1] != W.shape[0]:
            raise ValueError(
                f"checkpoint {path}: shapes do not chain: W{i - 1} has "
                f"{sizes[-1]} outputs but W{i} takes {W.shape[0]}"
            )
        sizes = [*(sizes or [W.shape[0]]), W.shape[1]]
    return sizes


def _config(meta: dict[str, np.ndarray], path: Path) -> Config:
    try:
        config_dict = json.loads(_string(meta, "config", path))
        if not isinstance(config_dict, dict):
            raise ValueError("it is not a JSON object")
        return Config.from_dict(config_dict)
    except RecursionError:
        raise ValueError(f"checkpoint {path}: bad configuration: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"checkpoint {path}: bad configuration: {exc}") from None


def load(path: str | os.PathLike[str]) -> tuple[Network, Config]:
    """Read a checkpoint written by ``save``; see the module docstring for what is checked.

    Everything is checked from the zip directory and the ``.npy`` headers, plus the small
    metadata entries, before any parameter's data is read."""
    p = Path(path)
    with _open(p) as archive:
        meta = _metadata(archive, p)
        names = _activation_names(meta, p)
        sizes = _check_layers(archive.entries, len(names), p)
        config = _config(meta, p)
        problem = _mismatch(sizes, names, config)
        if problem is not None:
            raise ValueError(f"checkpoint {p}: {problem}")
        layers = [Dense(archive.read(weight_name(i)), archive.read(bias_name(i)))
                  for i in range(len(names))]
    try:
        network = Network(layers, names)
    except ValueError as exc:
        raise ValueError(f"checkpoint {p}: {exc}") from None
    return network, config
