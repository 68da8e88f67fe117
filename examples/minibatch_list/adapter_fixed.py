"""The same adapter on the corrected network: ``handnet check`` passes (exit 0)."""

import adapter as buggy

from handnet.adapter import Adapter


def adapter() -> Adapter:
    buggy.PLANTED_BUG = False
    try:
        return buggy.adapter()
    finally:
        buggy.PLANTED_BUG = True
