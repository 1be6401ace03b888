"""What the fork server and its clients say to each other over the Unix socket, and when forking is sound."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from typing import NoReturn

# The kernel command a fork replaces: `<python> -m ipykernel_launcher -f <connection file> ...`.
LAUNCHER = "ipykernel_launcher"
# Interpreter flags the server is started with, so a kernel command carrying them (ipykernel's own "python3" spec
# adds the first, for the debugger) is still one the server can stand in for.
SERVER_FLAGS = ("-Xfrozen_modules=off",)
# ipykernel sets this when MPLBACKEND is empty (IPKernelApp.init_gui_pylab); the server does the same before it
# imports matplotlib, so that a forked kernel starts with the backend a fresh kernel would have.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# Environment variables read while the server imports (the interpreter's start-up, sys.path, matplotlib's
# rcParams, the hash seed): a kernel asked for with other values would not be what a fresh process is, so the
# server refuses to fork it and the client starts a plain kernel instead.
IMPORT_TIME_ENV = (
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONSAFEPATH",
    "PYTHONNOUSERSITE",
    "PYTHONUSERBASE",
    "PYTHONHOME",
    "PYTHONWARNINGS",
    "PYTHONDONTWRITEBYTECODE",
    "MPLBACKEND",
    "MPLCONFIGDIR",
    "HOME",
    "XDG_CONFIG_HOME",
    "JUPYTER_CONFIG_DIR",
    "IPYTHONDIR",
    # read by the debugger (pydevd, through ipykernel.debugger) when it loads, besides the prefixes below
    "PYTHONBREAKPOINT",
    "IDE_PROJECT_ROOTS",
    "LIBRARY_ROOTS",
    "PATHS_FROM_ECLIPSE_TO_PYTHON",
)
# Every variable whose name starts with one of these is import-time environment too (pydevd's settings).
IMPORT_TIME_ENV_PREFIXES = ("PYDEVD_", "PYDEV_", "DEBUGPY_")
# Turns the fork server off (also `kompas run --no-fork`; the pages fork only with `kompas serve --fork`).
DISABLE_ENV = "KOMPAS_NO_FORK"
# Set by `kompas serve`: its fork server also loads the pages' data before it forks (widgets.preload).
PRELOAD_PAGES_ENV = "KOMPAS_FORK_PRELOAD_PAGES"
# Set for a batch's server only (client.start's preload_data): the dataset folder it loads before it forks, so that
# the run's notebooks find their data in memory (bundle.preload).
PRELOAD_DATA_ENV = "KOMPAS_FORK_PRELOAD_DATA"
# With it, the run's kommuner (codes or names, one per line): their tables are joined before the server forks too.
PRELOAD_KOMMUNER_ENV = "KOMPAS_FORK_PRELOAD_KOMMUNER"
# Set by `kompas serve`: the CPU priority (nice value, 0–19) of every kernel the server forks. See serve.KERNEL_NICE.
KERNEL_NICE_ENV = "KOMPAS_FORK_KERNEL_NICE"
# The temporary folder that holds a server's socket (made by client.ForkServer, removed by whichever ends last).
SOCKET_FOLDER_PREFIX = "kompas-fork-"
MAX_MESSAGE = 1 << 20
MAX_FDS = 4
PR_SET_CHILD_SUBREAPER = 36  # prctl option (linux/prctl.h)
# Thread pools that libraries would start while importing; a fork copies only the thread calling fork(), so a lock
# held by another thread at that moment stays locked for ever in the child. Set while a process that will fork
# imports them (the fork server; `kompas run`, which forks its drivers), and removed afterwards: the kernels get the
# environment they were asked for (these libraries read it once, when they load).
SINGLE_THREADED_ENV = {
    "OPENBLAS_NUM_THREADS": "1",  # OpenBLAS starts its worker threads when numpy loads
    "JE_ARROW_MALLOC_CONF": "background_thread:false",  # pyarrow's jemalloc starts a purging thread
}


def become_subreaper() -> None:
    """Make this process the one that orphaned descendants are reparented to (instead of init), so that it can
    collect them: in a container init often collects nothing, and they would stay zombies."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def lower_priority(nice: int) -> None:
    """Lower this process's CPU priority to `nice` (from 0), and its session's, when it leads one.

    Linux (with autogroup scheduling, the default on desktops and servers) shares the CPU first between sessions and
    only then between the processes of a session, by the session's own nice value (/proc/self/autogroup): a process
    in a session of its own competes at that value whatever its own nice value says. Lowering a priority is allowed
    to every user; without autogroups the file is missing or refused and the process's own nice value is what counts.
    """
    if nice <= 0:
        return
    os.nice(nice)
    try:
        with open("/proc/self/autogroup", "w") as autogroup:
            autogroup.write(str(nice))
    except OSError:
        pass


@contextlib.contextmanager
def single_threaded_imports(keep_given: bool = True):
    """Imports inside this start no thread pools (SINGLE_THREADED_ENV); afterwards the environment is as before.

    With `keep_given`, a variable the user set is left as it is while importing (the fork server: its kernels get the
    thread pools the user asked for, and the server then forks none, see `Server._check_sound`); else it is
    overridden while importing (`kompas run`, which computes nothing with them and forks its drivers)."""
    before = {name: os.environ.get(name) for name in SINGLE_THREADED_ENV}
    for name, value in SINGLE_THREADED_ENV.items():
        if before[name] is None or not keep_given:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def threads() -> int:
    """The number of threads of this process, those started by C libraries included (Linux)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def end_process(code: int) -> NoReturn:
    """End this process now: run its exit handlers, flush the standard streams, then `os._exit(code)`.

    What Python's own end does after that (freeing every module and object one by one) is work for nothing in a
    process about to go: with pandas, matplotlib and the notebook tools loaded, 0.18 s at the end of every `kompas run`
    (and a fork server's end, which the run waits for). Only for a process with no thread left to finish: the caller
    makes sure (`ends_alone`).
    """
    import atexit

    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # closed, or a pipe whose reader is gone: nothing more to say
                stream.flush()
        os._exit(code)


def ends_alone() -> bool:
    """Whether no thread but this one is left that Python would wait for at exit (a non-daemon thread)."""
    import threading

    return all(t.daemon for t in threading.enumerate() if t is not threading.current_thread())


def disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def fingerprint(env: dict[str, str]) -> dict[str, str]:
    """The import-time environment a process with `env` would have once ipykernel has set its defaults."""
    found = {name: env.get(name, "") for name in IMPORT_TIME_ENV}
    found.update({name: value for name, value in env.items() if name.startswith(IMPORT_TIME_ENV_PREFIXES)})
    found["MPLBACKEND"] = found["MPLBACKEND"] or INLINE_BACKEND
    return found


def send(sock: socket.socket, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def receive(sock: socket.socket) -> tuple[dict, list[int]]:
    """One message (SOCK_SEQPACKET keeps message boundaries) and the file descriptors that came with it."""
    data, fds, _flags, _address = socket.recv_fds(sock, MAX_MESSAGE, MAX_FDS)
    if not data:
        for fd in fds:
            os.close(fd)
        raise ConnectionError("the other side closed the connection")
    return json.loads(data), fds


def request(path: str, message: dict, fds: list[int] | tuple[int, ...] = (), timeout: float = 30.0):
    """Send one request to the server at `path` and return its reply and any file descriptors in it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        send(sock, message, fds)
        return receive(sock)
