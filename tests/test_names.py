"""Parameter names (handnet.names): the one place W<i>/b<i> are built and parsed."""

import pytest

from handnet.names import all_names, backprop_key, is_bias, is_weight, layer_of, pair, parse


def test_names_of_a_three_layer_network() -> None:
    assert all_names(3) == ["W0", "b0", "W1", "b1", "W2", "b2"]
    assert pair(12) == ("W12", "b12")


def test_parse_reads_kind_and_layer_with_several_digits() -> None:
    assert parse("W12") == ("W", 12)
    assert layer_of("b3") == 3
    assert is_bias("b0") and not is_weight("b0")
    assert is_weight("W0") and not is_bias("W0")


@pytest.mark.parametrize("bad", ["W", "b", "Wx", "c1", "w1", "W1 ", "bias1", "W-1", ""])
def test_parse_refuses_anything_else(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^not a parameter name: "):
        parse(bad)


def test_backprop_order_is_output_layer_first_weight_before_bias() -> None:
    names = ["W0", "b0", "W1", "b1", "W10", "b10", "W2", "b2"]
    assert sorted(names, key=backprop_key) == ["W10", "b10", "W2", "b2", "W1", "b1", "W0", "b0"]
