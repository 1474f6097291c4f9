"""Imported by `test_warm.py` through `registry.warm` only: a module no other code imports."""
