"""How handnet and the twin are compared: one tolerance policy (``tolerance``, ``scales``), one
comparison (``compare``), the lockstep harness (``harness``) and the hypothesis strategies."""
