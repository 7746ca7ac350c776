"""Benchmarks and the data generator (outside the product: nothing here is imported by it)."""
