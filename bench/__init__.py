"""Bench scripts: each prints the figures quoted in the README."""
