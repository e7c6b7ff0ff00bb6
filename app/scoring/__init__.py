"""Composite index scoring: transforms, indices and what-if scenarios (pure functions)."""
