"""Save/load of ``.npz`` checkpoints: bit-exact round trips and clear errors for bad files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handnet import Config, Network
from handnet.checkpoint import FORMAT, load, save


def small(dtype: type = np.float64, seed: int = 1, **overrides: Any) -> tuple[Network, Config]:
    config = Config(hidden=(5, 3), epochs=2, n_train=10, n_test=10, **overrides)
    net = Network.create(config.sizes, config.activations, rng=np.random.default_rng(seed),
                         dtype=dtype)
    # Give the biases non-zero, awkward values so the round trip is tested on every bit.
    for name, p in net.parameters.items():
        if name.startswith("b"):
            p += np.random.default_rng(seed + 1).standard_normal(p.shape).astype(dtype) / 3
    return net, config


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def rewrite(src: Path, dst: Path, change: dict[str, Any], drop: tuple[str, ...] = ()) -> Path:
    """Copy a checkpoint with some entries replaced, added or removed."""
    with np.load(src) as archive:
        arrays = {k: archive[k] for k in archive.files if k not in drop}
    arrays.update(change)
    np.savez(dst, **arrays)
    return dst


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_is_bit_exact_and_keeps_dtype(tmp_path: Path, dtype: type) -> None:
    net, config = small(dtype)
    path = save(tmp_path / "net.npz", net, config)
    loaded, loaded_config = load(path)
    assert loaded_config == config
    assert loaded.activation_names == net.activation_names
    assert set(loaded.parameters) == set(net.parameters)
    for name, p in net.parameters.items():
        assert same_bits(loaded.parameters[name], p), name
        assert loaded.parameters[name].dtype == np.dtype(dtype)
    x: np.ndarray = np.random.default_rng(5).uniform(size=(7, 2)).astype(dtype)
    assert same_bits(loaded.forward(x), net.forward(x))


def test_round_trip_of_a_non_default_config(tmp_path: Path) -> None:
    net, config = small(activation=("relu", "tanh", "sigmoid"), optimizer="sgd",
                        lr_gamma=0.25, loss="bce", momentum_style="torch", shuffle=True)
    loaded, loaded_config = load(save(tmp_path / "c.npz", net, config))
    assert loaded_config == config
    assert loaded.activation_names == ["relu", "tanh", "sigmoid"]


def test_loaded_network_is_independent_and_trainable(tmp_path: Path) -> None:
    net, config = small()
    loaded, _ = load(save(tmp_path / "n.npz", net, config))
    before = net.parameters["W0"].copy()
    loaded.parameters["W0"] -= 1.0  # must be writable, and not alias the saved network
    assert same_bits(net.parameters["W0"], before)


def test_save_overwrites_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    net, config = small()
    path = tmp_path / "n.npz"
    save(path, net, config)
    net2, _ = small(seed=9)
    save(path, net2, config)
    assert same_bits(load(path)[0].parameters["W0"], net2.parameters["W0"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]


def test_save_writes_the_exact_path_given(tmp_path: Path) -> None:
    net, config = small()
    save(tmp_path / "weights", net, config)
    assert (tmp_path / "weights").is_file()
    assert not (tmp_path / "weights.npz").exists()


def test_save_refuses_a_network_that_does_not_fit_its_config(tmp_path: Path) -> None:
    net, _ = small()
    with pytest.raises(ValueError, match="sizes"):
        save(tmp_path / "n.npz", net, Config(hidden=(4,)))
    assert not (tmp_path / "n.npz").exists()


def test_save_into_a_missing_directory_is_an_oserror(tmp_path: Path) -> None:
    net, config = small()
    with pytest.raises(OSError, match="does not exist"):
        save(tmp_path / "nope" / "n.npz", net, config)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    net, config = small()
    path = save(tmp_path / "n.npz", net, config)
    original = path.read_bytes()

    def broken_savez(f: object, *args: object, **kwargs: object) -> None:
        f.write(b"PK\x03\x04 half a file")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="No space left"):
        save(path, small(seed=3)[0], config)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]


# --- bad files --------------------------------------------------------------------------------

@pytest.fixture
def good(tmp_path: Path) -> Path:
    net, config = small()
    return save(tmp_path / "good.npz", net, config)


def expect_error(path: Path, *words: str) -> str:
    with pytest.raises((ValueError, OSError)) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    for w in words:
        assert w in message, message
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "absent.npz", "no such file")


def test_directory(tmp_path: Path) -> None:
    expect_error(tmp_path, "directory")


def test_empty_file(tmp_path: Path) -> None:
    bad = tmp_path / "empty.npz"
    bad.write_bytes(b"")
    expect_error(bad, "empty")


@pytest.mark.parametrize("keep", [10, 100, 0.5, 0.9, -1])
def test_truncated_file(good: Path, tmp_path: Path, keep: float) -> None:
    data = good.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    bad = tmp_path / "cut.npz"
    bad.write_bytes(data[:n])
    expect_error(bad, "truncated or corrupt")


def test_corrupt_bytes_inside_an_array(good: Path, tmp_path: Path) -> None:
    data = bytearray(good.read_bytes())
    # Flip bytes inside the stored W0 data: the zip CRC check must catch it.
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("W0.npy")
    offset = info.header_offset
    name_len, extra_len = np.frombuffer(bytes(data[offset + 26 : offset + 30]), dtype="<u2")
    npy_start = offset + 30 + int(name_len) + int(extra_len)
    start = npy_start + 128 + 8  # past the 128-byte .npy header, inside the float data
    data[start : start + 16] = bytes(16)
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    expect_error(bad, "corrupt", "CRC")


def test_text_file_is_not_a_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "notes.npz"
    bad.write_text("hello, these are not weights\n")
    expect_error(bad, "not an .npz archive")


def test_single_npy_array_is_not_a_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "one.npy"
    np.save(bad, np.zeros(3))
    expect_error(bad, "single .npy array")


def test_foreign_npz_is_not_ours(tmp_path: Path) -> None:
    bad = tmp_path / "foreign.npz"
    np.savez(bad, weights=np.zeros((2, 2)))
    expect_error(bad, "not a handnet checkpoint")


def test_wrong_format_string(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "f.npz", {"format": np.array("other-thing")}),
                 "not a handnet checkpoint", "other-thing")


def test_future_version(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "v.npz", {"version": np.array(99)}), "version 99")


@pytest.mark.parametrize("entry", ["config", "activations", "version"])
def test_missing_metadata(good: Path, tmp_path: Path, entry: str) -> None:
    expect_error(rewrite(good, tmp_path / "m.npz", {}, drop=(entry,)), "missing", entry)


def test_missing_array(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "m.npz", {}, drop=("b1",)), "missing arrays", "b1")


def test_unknown_entry(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "u.npz", {"W9": np.zeros((1, 1))}),
                 "unknown entries", "W9")


def test_shapes_that_do_not_chain(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "s.npz", {"W1": np.zeros((4, 3))}), "do not chain")


def test_bias_of_the_wrong_shape(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "b.npz", {"b0": np.zeros((5,))}), "b0")


def test_integer_weights(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "i.npz", {"W0": np.zeros((2, 5), dtype=np.int64)}),
                 "W0", "int64")


def test_unknown_activation(good: Path, tmp_path: Path) -> None:
    names = json.dumps(["sigmoid", "swish", "sigmoid"])
    expect_error(rewrite(good, tmp_path / "a.npz", {"activations": np.array(names)}), "swish")


def test_config_that_does_not_match_the_weights(good: Path, tmp_path: Path) -> None:
    config = Config(hidden=(5, 4)).to_dict()
    expect_error(rewrite(good, tmp_path / "c.npz", {"config": np.array(json.dumps(config))}),
                 "differ")


def test_config_with_unknown_keys(good: Path, tmp_path: Path) -> None:
    config = {**Config(hidden=(5, 3)).to_dict(), "colour": "red"}
    expect_error(rewrite(good, tmp_path / "k.npz", {"config": np.array(json.dumps(config))}),
                 "colour")


def test_config_that_is_not_json(good: Path, tmp_path: Path) -> None:
    expect_error(rewrite(good, tmp_path / "j.npz", {"config": np.array("{not json")}),
                 "configuration")


def test_pickled_entries_are_refused(good: Path, tmp_path: Path) -> None:
    obj = np.array([{"a": 1}], dtype=object)
    with np.load(good) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["config"] = obj
    bad = tmp_path / "p.npz"
    np.savez(bad, allow_pickle=True, **arrays)
    expect_error(bad, "unreadable entry", "allow_pickle")


def test_format_marker_is_stored(good: Path) -> None:
    with np.load(good) as archive:
        assert str(archive["format"]) == FORMAT
