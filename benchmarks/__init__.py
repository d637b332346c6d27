"""Ventanilla's benchmarks: a script per speed or size goal, JSON results, floors from the same run."""
