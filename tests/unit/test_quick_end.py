"""The `kompas` command and the fork server end at once after their work (`protocol.end_process`, skipping Python's
teardown of every module), and lose nothing on the way: exit code, output, exit handlers, threads still at work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run_command(folder: Path, before: str) -> subprocess.CompletedProcess:
    """`kompas data validate` of a missing folder (exit code 2, a Danish error on stderr) through the console
    script's entry point, in a fresh process, after `before` ran there."""
    script = textwrap.dedent(
        f"""
        import atexit, sys, threading, time
        from pathlib import Path
        from kompas_helpers import cli
        folder = Path({str(folder)!r})
        """
    )
    script += textwrap.dedent(before)
    script += f'\nsys.argv = ["kompas", "data", "validate", {str(folder / "missing")!r}]\ncli.entry()\n'
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_the_exit_code_the_output_and_the_exit_handlers_all_survive_the_quick_end(tmp_path):
    done = run_command(
        tmp_path,
        """
        atexit.register(lambda: (folder / "handler").write_text("ran"))
        print("buffered, no newline", end="")  # in the stream's buffer until it is flushed
        """,
    )
    assert done.returncode == 2
    assert done.stdout == "buffered, no newline"
    assert done.stderr.startswith("Fejl: Data kan ikke indlæses")
    assert (tmp_path / "handler").read_text() == "ran"


def test_a_thread_still_at_work_is_waited_for_as_python_would(tmp_path):
    done = run_command(
        tmp_path,
        """
        def work():
            time.sleep(0.5)
            (folder / "thread").write_text("finished")
        threading.Thread(target=work).start()
        """,
    )
    assert done.returncode == 2
    assert (tmp_path / "thread").read_text() == "finished"


def test_only_a_non_daemon_thread_keeps_a_process_from_ending_alone():
    script = textwrap.dedent(
        """
        import threading, time
        from kompas_helpers.kernels import protocol
        seen = [protocol.ends_alone()]
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        seen.append(protocol.ends_alone())
        threading.Thread(target=time.sleep, args=(0.5,)).start()
        seen.append(protocol.ends_alone())
        print(seen)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[True, True, False]"
