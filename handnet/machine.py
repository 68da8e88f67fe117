"""Where a measurement was taken: CPU model, core count, load, library versions."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    try:
        info["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = None
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{p.get('internal_api')} {p.get('version')} "
                               f"{p.get('architecture') or ''}".strip()
                               for p in threadpool_info()})
    except ImportError:
        pass
    # OpenBLAS reads these at start-up; a forced core type changes NumPy's kernels and speed.
    info["blas_env"] = {k: v for k, v in os.environ.items()
                        if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    return info
