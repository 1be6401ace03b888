"""What the workbook's processes and kernels import, and when: the slow imports are deferred or avoided."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def python(code: str) -> str:
    """Run `code` in a fresh Python (as a process of the workbook starts) and return what it prints."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_jsonschema_builds_the_iri_grammars_only_when_an_iri_is_checked():
    out = python(
        """
        import sys
        from kompas_helpers import deferred
        deferred.defer_iri_grammars()
        import jsonschema, nbformat, papermill
        print("lark" in sys.modules, type(sys.modules["rfc3987_syntax"]).__name__)
        checker = jsonschema.FormatChecker()
        print(checker.conforms("https://example.org/bolig/æøå?x=1", "iri"), checker.conforms("not an iri", "iri"))
        print(checker.conforms("../afdeling/1", "iri-reference"), checker.conforms("a b", "iri-reference"))
        print("lark" in sys.modules, type(sys.modules["rfc3987_syntax"]).__name__)
        """
    )
    assert out.splitlines() == ["False _Deferred", "True False", "True False", "True module"]


def test_the_same_checks_without_the_stand_in():
    out = python(
        """
        import jsonschema
        checker = jsonschema.FormatChecker()
        print(checker.conforms("https://example.org/bolig/æøå?x=1", "iri"), checker.conforms("not an iri", "iri"))
        print(checker.conforms("../afdeling/1", "iri-reference"), checker.conforms("a b", "iri-reference"))
        """
    )
    assert out.splitlines() == ["True False", "True False"]


def test_the_command_and_the_workers_defer_it():
    out = python(
        """
        import contextlib, io, os, sys
        from kompas_helpers import cli
        with contextlib.redirect_stderr(io.StringIO()) as err:  # stops at the year, after reading the templates
            code = cli.main(["run", "--kommune", "101", "--templates", "overview", "--year", "1900"])
        print(code, "papermill" in sys.modules, type(sys.modules["rfc3987_syntax"]).__name__, "1900" in err.getvalue())
        """
    )
    assert out == "2 True _Deferred True"
    out = python(
        """
        import os, sys
        from kompas_helpers.kernels import protocol
        os.environ[protocol.DISABLE_ENV] = "1"  # no fork server: only the driver's own imports
        from kompas_helpers.runner import worker
        driver = worker.Driver()
        print("papermill" in sys.modules, type(sys.modules["rfc3987_syntax"]).__name__)
        driver.close()
        """
    )
    assert out == "True _Deferred"


def test_a_page_kernel_does_not_import_the_voila_server():
    out = python(
        """
        import sys
        import kompas_helpers.widgets, kompas_helpers.organisation.page
        print(sorted(m for m in ("voila", "jupyter_server", "kompas_helpers.serve", "jsonschema") if m in sys.modules))
        """
    )
    assert out == "[]"


def test_a_report_kernel_does_not_import_pandera():
    """pandera guards the indicator table where it is computed; a report reads a computed table (0.4 s less for every
    kernel and for the fork server's start)."""
    out = python(
        """
        import sys
        import kompas_helpers.report.show, kompas_helpers.organisation.show, kompas_helpers.bundle
        print("pandera" in sys.modules)
        """
    )
    assert out == "False"


def test_the_batchs_fork_server_imports_no_page_modules():
    out = python(
        """
        import os, sys
        from kompas_helpers.kernels import protocol, server
        os.environ.pop(protocol.PRELOAD_PAGES_ENV, None)
        server.Server("unused").prepare()
        pages = [m for m in server.PRELOAD_PAGES if m != "ipywidgets"]  # seaborn imports ipywidgets for itself
        print(sorted(m for m in pages if m in sys.modules), "jsonschema" in sys.modules)
        print(all(m in sys.modules for m in server.PRELOAD))
        """
    )
    assert out.splitlines() == ["[] False", "True"]
