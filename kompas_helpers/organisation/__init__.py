"""One boligorganisation for its styringsdialog: facts, indicators, completeness, afdelinger and questions."""
