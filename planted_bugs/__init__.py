"""Planted backprop bugs the suite must kill: the catalogue, its runner and its scoring."""
