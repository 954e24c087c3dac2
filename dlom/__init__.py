"""DLOM command-line interface."""
