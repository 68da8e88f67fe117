"""The PyTorch side of handnet's verification (torch lives here, never in handnet/)."""
