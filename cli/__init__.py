"""The `telemart` command, its benchmarks and the demo (above `server/`)."""
