"""Developer scripts for the workbook, run with `python -m tools.<name>`; not part of the installed package."""
