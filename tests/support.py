"""Helpers shared by the equivalence tests."""

from __future__ import annotations

import os

from hypothesis import settings

MULTIPLIER = 10 if os.environ.get("HYPOTHESIS_PROFILE", "dev") == "thorough" else 1


def examples(n: int) -> settings:
    """``n`` examples (ten times as many under the ``thorough`` profile)."""
    return settings(max_examples=n * MULTIPLIER)
