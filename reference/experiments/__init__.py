"""Studies built on the twin: shadow runs, resynchronised runs, the seed run and torch timings."""
