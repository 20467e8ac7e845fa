"""Helpers of benchmarks/robustness_competitors.py: the Gurobi ML query, the auto_LiRPA worker, the summary."""
