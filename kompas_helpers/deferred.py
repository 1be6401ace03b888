"""Imports deferred until they are used, in the processes the workbook itself runs (never in a kernel).

jsonschema (imported by nbformat, so by papermill, nbconvert and jupyter_server) imports `rfc3987_syntax` for its
«iri» and «iri-reference» format checks, and that module builds 38 Earley parsers when it is imported: about 1.3 s
of CPU in every process that imports nbformat (the `kompas` command, each of a run's worker processes, the Voilà
server), for two format checks no notebook schema uses. `defer_iri_grammars` puts a stand-in in its place that
imports the real module the first time such a check runs.

Only for the workbook's own processes: a kernel (a fork of the fork server included) imports what its notebook
imports, as a fresh Python would.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

IRI_MODULE = "rfc3987_syntax"


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is used; then imports it and takes its place."""

    def __init__(self, name: str):
        super().__init__(name, f"{name}, imported when first used (kompas_helpers.deferred)")
        self.__dict__["_kompas_real"] = None

    def _load(self) -> types.ModuleType:
        real = self.__dict__["_kompas_real"]
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)  # now the real module is in sys.modules
            self.__dict__["_kompas_real"] = real
        return real

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self._load(), name)


def defer_iri_grammars() -> None:
    """Make `import rfc3987_syntax` (and jsonschema's `from rfc3987_syntax import is_valid_syntax`) cheap: the
    grammars are built the first time an «iri» or «iri-reference» format is checked. Does nothing when the module
    is not installed or already imported."""
    if IRI_MODULE in sys.modules or importlib.util.find_spec(IRI_MODULE) is None:
        return
    stand_in = _Deferred(IRI_MODULE)

    def is_valid_syntax(*args, **kwargs):
        return stand_in._load().is_valid_syntax(*args, **kwargs)

    stand_in.__dict__["is_valid_syntax"] = is_valid_syntax
    sys.modules[IRI_MODULE] = stand_in
