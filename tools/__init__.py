"""Developer tools that are neither the network, its twin nor the planted-bug catalogue."""
