"""Start and stop a kernel fork server for this process, and ask it for kernels (see `kernels.server`)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from kompas_helpers.kernels import protocol

log = logging.getLogger("kompas_helpers.kernels")
READY_TIMEOUT = 120  # seconds for the server's imports on a loaded machine
_current: ForkServer | None = None
_users = 0
_lock = threading.Lock()


class ForkError(RuntimeError):
    """The fork server could not make this kernel; the caller starts a plain one instead."""


def current() -> ForkServer | None:
    """The fork server this process started (kernels started here are forked from it), if any."""
    return _current


def start(
    cwd: str | Path | None = None, preload_data: str | Path | None = None, preload_kommuner: Sequence[str] = ()
) -> ForkServer | None:
    """Start this process's fork server unless it is turned off; it imports while the caller goes on.

    One server per process, shared by every user in it (several drivers on a Dask worker's threads): each `start`
    is matched by a `stop`, and the last `stop` stops the server. With `preload_data` (a dataset folder) a server
    started here loads that dataset before it forks (bundle.preload), for a batch's notebooks.
    """
    return _use(lambda: ForkServer(cwd, preload_data, preload_kommuner))


def start_for_run(data: str | Path | None = None, kommuner: Sequence[str] = ()) -> ForkServer | None:
    """`start` as `kompas run` does: in the kernels' folder, loading the run's dataset (`data`; None or "" is the
    synthetic default) and the tables of the kommuner it names (`kommuner`, as given on the command line) before it
    forks. The command starts it before its own imports; `batch.run` then uses it."""
    from kompas_helpers import paths

    return start(paths.kernel_cwd(), preload_data=paths.data_folder(data), preload_kommuner=kommuner)


def attach(path: str, pid: int) -> ForkServer | None:
    """Use the fork server another process started and owns (`kompas run` shares one among its worker processes):
    kernels started here are forked from it, and the last `stop` here leaves it running for its owner.

    `pid` is the server's process id, which the owner passes along while the server still runs (it is its child).
    In the owner's own process, its server is used.
    """
    return _use(lambda: SharedForkServer(path, pid))


def _use(make) -> ForkServer | None:
    """This process's server, made with `make()` unless a living one is there; counts the user (see `stop`)."""
    global _current, _users
    if protocol.disabled():
        return None
    with _lock:
        if _current is None or not _current.alive():
            if _current is not None:
                _current.stop()
            _current = make()
        _users += 1
        return _current


def stop() -> None:
    global _current, _users
    with _lock:
        _users = max(0, _users - 1)
        if _users:
            return
        server, _current = _current, None
    if server is not None:
        server.stop()


def forget_inherited() -> None:
    """In a child forked from a process that started a fork server (`kompas run`'s drivers): let go of the parent's
    server without stopping it, and close this copy of the pipe the server watches, so that the server still ends
    when its owner does. The child then attaches to it like any other process (`attach`)."""
    global _current, _users
    with _lock:
        server, _current, _users = _current, None, 0
    if server is None:
        return
    if server.process is not None and server.process.stdin is not None:
        with contextlib.suppress(OSError):
            server.process.stdin.close()
    atexit.unregister(server.stop)


def fallback_line(reason: str) -> None:
    """The one log line for a kernel started without the fork server (printed once per reason and process)."""
    if reason in _reported:
        return
    _reported.add(reason)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("kompas: %(message)s"))
        log.addHandler(handler)
    log.warning("kernen startes uden fork-serveren (%s); den starter forfra som en almindelig kerne", reason)


_reported: set[str] = set()


class ForkServer:
    """One fork server process, owned by this process through a pipe on its stdin."""

    def __init__(
        self,
        cwd: str | Path | None = None,
        preload_data: str | Path | None = None,
        preload_kommuner: Sequence[str] = (),
    ):
        self._dir = tempfile.mkdtemp(prefix=protocol.SOCKET_FOLDER_PREFIX)
        own = (protocol.DISABLE_ENV, protocol.PRELOAD_DATA_ENV, protocol.PRELOAD_KOMMUNER_ENV)
        env = {k: v for k, v in os.environ.items() if k not in own}
        if preload_data:
            env[protocol.PRELOAD_DATA_ENV] = str(preload_data)
            env[protocol.PRELOAD_KOMMUNER_ENV] = "\n".join(str(k).strip() for k in preload_kommuner)
        self.path = os.path.join(self._dir, "socket")
        # Kernels orphaned by a server that was killed are reparented to this process instead of to init, so they
        # can be collected here (in a container, init often collects nothing and they would stay zombies).
        protocol.become_subreaper()
        # stdin is a pipe whose only writer is this process: when this process exits, however it exits, the server
        # sees EOF, kills its kernels and exits. stdout/stderr are inherited: a kernel's output goes where a kernel
        # started by this process would write it when it is given no files.
        self.process = subprocess.Popen(
            [sys.executable, *protocol.SERVER_FLAGS, "-m", "kompas_helpers.kernels.server", "--socket", self.path],
            stdin=subprocess.PIPE,
            cwd=str(cwd) if cwd else None,
            env=env,
        )
        self._ready = False
        atexit.register(self.stop)

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until the server accepts requests (it binds its socket only after its imports)."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            if not self.alive():
                raise self._stopped()
            if os.path.exists(self.path):
                self._ready = True
                return
            if time.monotonic() > deadline:
                raise ForkError(f"fork-serveren var ikke klar efter {timeout:g} s")
            time.sleep(0.02)

    def _stopped(self) -> ForkError:
        return ForkError(f"fork-serveren stoppede (kode {self.process.returncode})")

    def fork(self, argv: list[str], env: dict[str, str], cwd: str, stdout: int, stderr: int) -> ForkedKernel:
        """A new kernel process running `ipykernel_launcher argv` with this environment and working folder."""
        self.wait_ready()
        if not self.alive():
            raise self._stopped()
        message = {"op": "fork", "argv": list(argv), "env": dict(env), "cwd": str(cwd)}
        try:
            reply, fds = protocol.request(self.path, message, [stdout, stderr])
        except (OSError, ValueError) as exc:
            raise ForkError(f"fork-serveren svarede ikke: {exc}") from exc
        if "error" in reply:
            for fd in fds:
                os.close(fd)
            raise ForkError(reply["error"])
        return ForkedKernel(self, int(reply["pid"]), fds[0] if fds else None)

    def ping(self) -> dict:
        self.wait_ready()
        return protocol.request(self.path, {"op": "ping"}, timeout=5)[0]

    def exit_code(self, pid: int) -> int | None | str:
        """The kernel's exit code once the server has collected it, None while it runs, "unknown" if not its own."""
        return protocol.request(self.path, {"op": "status", "pid": pid}, timeout=5)[0]["exitcode"]

    def forget(self, pid: int) -> None:
        with contextlib.suppress(OSError, ValueError):
            protocol.request(self.path, {"op": "forget", "pid": pid}, timeout=5)

    def stop(self, timeout: float = 10) -> None:
        """Close the pipe: the server kills and collects its kernels and exits; this process collects the server."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


class SharedForkServer(ForkServer):
    """A fork server owned by another process (see `attach`): asked for kernels like one's own, never stopped here."""

    def __init__(self, path: str, pid: int):
        self.path = path
        self.process = None
        self._ready = False
        try:  # names this very server even after its owner has collected it and its pid is reused
            self._pidfd: int | None = os.pidfd_open(pid)
        except OSError:  # already gone
            self._pidfd = None

    def alive(self) -> bool:
        return self._pidfd is not None and not _readable(self._pidfd, 0)

    def _stopped(self) -> ForkError:
        return ForkError("den delte fork-server stoppede")

    def stop(self, timeout: float = 10) -> None:
        """Forget the server (its owner stops it)."""
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class ForkedKernel:
    """A kernel forked by the server: the subset of subprocess.Popen that jupyter_client's LocalProvisioner uses.

    The kernel is the server's child, not ours, so its exit code comes from the server, which collects it; we wait
    on a pidfd, which names this very process even after the server has collected it and its pid is reused.
    """

    stdin = stdout = stderr = None  # LocalProvisioner.wait closes these when they are set

    def __init__(self, server: ForkServer, pid: int, pidfd: int | None):
        self.server, self.pid, self.pidfd = server, pid, pidfd
        self.returncode: int | None = None

    def _exited(self) -> bool:
        if self.pidfd is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            return False
        return _readable(self.pidfd, 0)

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if not self._exited():
            return None
        code = None
        try:
            # The process has exited; the server collects it on SIGCHLD, a moment later at most.
            for _ in range(50):
                code = self.server.exit_code(self.pid)
                if code is not None:
                    break
                time.sleep(0.01)
        except (OSError, ValueError):
            code = _collect_orphan(self.pid)  # the server is gone: the kernel was reparented to us (subreaper)
        self.returncode = code if isinstance(code, int) else -signal.SIGKILL
        self._close()
        self.server.forget(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired([str(self.pid)], timeout or 0)
            if self.pidfd is not None:
                _readable(self.pidfd, 0.1)
            else:
                time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is not None or self._exited():
            return
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, signum)
        else:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def __del__(self):
        with contextlib.suppress(Exception):
            self._close()


def _readable(fd: int, timeout: float) -> bool:
    """Whether `fd` (a pidfd: readable once its process has exited) is readable within `timeout` seconds.

    poll(), not select(): a server with many pages open holds more than 1,024 descriptors (each kernel's sockets
    and pidfd), and select() refuses any descriptor numbered 1,024 or above (30 readers with a pool of 30 did).
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def _collect_orphan(pid: int) -> int | str:
    with contextlib.suppress(ChildProcessError):
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
    return "unknown"
