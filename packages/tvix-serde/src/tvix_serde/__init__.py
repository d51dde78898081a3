"""Nix as a configuration language for Python programs: Nix values into typed Python objects and back."""
