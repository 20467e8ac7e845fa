"""Helpers of benchmarks/interpretable_frontier.py (baselines that run in their own environment)."""
