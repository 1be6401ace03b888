"""Errors with a Danish message meant for the reader: report parameters that do not fit the data."""

from __future__ import annotations


class ParameterError(ValueError):
    """A report parameter that does not fit the data (unknown kommune code, year not in the data)."""
