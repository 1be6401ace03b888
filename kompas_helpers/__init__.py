"""AlmenKompas workbook: indicator registry, data, computation and reports for the styringsdialog."""

__version__ = "0.1.0"
