"""Progress of a job made of runs (``reproduce``, ``demo``): how far, and how long to go.

Like ``handnet train``'s display: on a terminal (stderr is a tty) a tqdm bar with its rate and
ETA, the finished runs' lines printed above it; otherwise (a log, CI) one line per finished run
with the elapsed time and the ETA.  The ETA is the wall time per finished run so far times the
runs left: with W workers finishing runs in parallel, that is the wall time still to wait.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


def duration(seconds: float) -> str:
    """``75`` -> ``"1m15s"``; ``3725`` -> ``"1h02m"``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class RunProgress:
    """``done(text)`` after each finished run; ``close()`` at the end."""

    def __init__(self, total: int, unit: str = "run", out: TextIO | None = None,
                 bar_stream: TextIO | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.total, self.count, self.clock = total, 0, clock
        self.start = clock()
        self.out = out if out is not None else sys.stdout
        stream = bar_stream if bar_stream is not None else sys.stderr
        self.bar: Any = None
        if stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, file=stream, leave=False,
                            dynamic_ncols=True)

    def eta(self) -> float | None:
        """Seconds still to wait (None before the first run finishes)."""
        if self.count == 0:
            return None
        return (self.clock() - self.start) / self.count * (self.total - self.count)

    def done(self, text: str) -> None:
        self.count += 1
        width = len(str(self.total))
        line = f"[{self.count:>{width}}/{self.total}] {text}"
        if self.bar is not None:
            self.bar.write(line, file=self.out)
            self.bar.update(1)
            self.bar.refresh()  # runs take seconds: show the new ETA now
            return
        elapsed = self.clock() - self.start
        eta = self.eta()
        left = f", ETA {duration(eta)}" if eta is not None and self.count < self.total else ""
        print(f"{line}  (elapsed {duration(elapsed)}{left})", file=self.out, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
