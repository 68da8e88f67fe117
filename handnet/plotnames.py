"""The files ``handnet.plots.write_plots`` writes into its directory (without importing
matplotlib): what ``train --plot DIR`` claims there, checked for collisions before training."""

PLOT_FILES = ("predictions.png", "loss.png", "accuracy.png", "lr.png")
