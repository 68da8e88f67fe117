"""One Pattern enumeration: the diagnosis, the report's labels and the planted-bug catalogue."""

import pytest

from planted_bugs.catalogue import load
from reference.checker.patterns import SHORT, Pattern, parse_patterns


def test_every_pattern_has_a_short_label() -> None:
    assert set(SHORT) == set(Pattern)


@pytest.mark.parametrize("mutant", load(), ids=lambda m: m.id)
def test_the_catalogue_names_only_known_patterns(mutant) -> None:  # type: ignore[no-untyped-def]
    parse_patterns(mutant.pattern)


def test_parse_patterns() -> None:
    assert parse_patterns("factor|loss") == [Pattern.FACTOR, Pattern.LOSS]
    assert parse_patterns("-") == []
    with pytest.raises(ValueError, match=r"^unknown pattern 'facter'; known: factor, sign, "):
        parse_patterns("facter")
