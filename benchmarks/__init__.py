"""Benchmarks: how fast strands-deploy is against a latency model of real AWS (see README.md)."""
