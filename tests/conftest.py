"""Settings for the whole test suite."""

# nbval collects every .ipynb it meets; these fixture notebooks are meant to fail or run slowly in the runner's
# tests (tests/notebook/test_runner.py), not to be validated on their own.
collect_ignore_glob = ["fixtures/templates/*.ipynb"]
