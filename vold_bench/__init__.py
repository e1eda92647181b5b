"""vold_bench: evaluation, scoring and leaderboards."""
