"""Reading, checking, saving and exporting the input data."""
