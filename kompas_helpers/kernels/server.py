"""The kernel fork server: imports what notebooks need once, then forks one fresh ipykernel per request.

Run as `python -m kompas_helpers.kernels.server --socket PATH` by `kernels.client.ForkServer`, with a pipe on
stdin: when the pipe closes (its owner exited or died), the server kills its kernels, collects them and exits.
Other processes may ask it for kernels too (`kompas run`'s workers share their run's server); when one of them ends,
the kernels it asked for are killed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import traceback

from kompas_helpers.kernels import protocol

# What a template or page imports; imported here once so that a forked kernel finds them in sys.modules.
# matplotlib_inline's backend is deliberately absent: it registers its hooks with the running IPython when it is
# imported, so it must be imported in the kernel (by `%matplotlib inline` or the first figure), as in a fresh one.
PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "pyarrow.compute",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    # What a kernel's start (IPKernelApp.initialize) imports: the debugger, and through it debugpy's pydevd, is half
    # of a forked kernel's start-up (about 45 ms each). Importing pydevd sets environment variables and reads
    # others: the server gives each kernel the ones it set (`import_env`) and forks only kernels asked for with the
    # same ones it read (protocol.IMPORT_TIME_ENV_PREFIXES).
    "ipykernel.debugger",
    "sqlite3",
    "pdb",
    # The rest of what IPKernelApp.initialize imports (checked by listing sys.modules before and after it in a
    # process that had imported the above): about 10 of a forked kernel's 60 CPU-milliseconds.
    "faulthandler",
    "importlib.readers",
    "importlib.resources.readers",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "tornado.platform.asyncio",
    "kompas_helpers.bundle",
    "kompas_helpers.cuts",
    "kompas_helpers.figures",
    "kompas_helpers.plots",
    "kompas_helpers.report.show",
    "kompas_helpers.report.params",
    "kompas_helpers.organisation.facts",
    "kompas_helpers.organisation.show",
)
# What the pages (`kompas serve`) import besides: their widgets, and Voilà's helper a preheated kernel waits for its
# reader with. Not for the batch: the templates import none of it, and it is 2 s of the server's start (voila.utils
# brings jupyter_server and jsonschema).
PRELOAD_PAGES = (
    "ipywidgets",
    "kompas_helpers.widgets",
    "kompas_helpers.organisation.page",
    "voila.utils",
)


class Server:
    def __init__(self, path: str):
        self.path = path
        self.fingerprint = protocol.fingerprint(dict(os.environ))
        self.kernel_nice = int(os.environ.get(protocol.KERNEL_NICE_ENV) or 0)
        self.children: dict[int, int | None] = {}  # pid -> exit code once collected (None while running)
        self.sockets: dict[int, list[str]] = {}  # pid -> the Unix socket files its kernel binds (ipc transport)
        self.listener: socket.socket | None = None
        self.wakeup: tuple[int, int] | None = None
        self.data_to_preload: tuple = ()  # a run's (dataset, kommuner) whose slices were not written when it started
        self.import_env: dict[str, str] = {}  # the variables its imports set (`prepare`), for every kernel
        # The processes that asked for kernels (several when `kompas run` shares this server among its workers):
        # when one ends, however it ends, the kernels it asked for are killed (see `owner_gone`).
        self.owners: dict[int, int] = {}  # pid of a process that asked for a kernel -> its pidfd
        self.owner_of: dict[int, int] = {}  # kernel pid -> the pid of the process that asked for it

    # -- set-up -------------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Import everything (never start a thread, a ZMQ context or an event loop here: see `_check_sound`)."""
        # ipykernel's default (IPKernelApp.init_gui_pylab) before matplotlib reads it, as in a fresh kernel.
        os.environ["MPLBACKEND"] = self.fingerprint["MPLBACKEND"]
        pages = bool(os.environ.get(protocol.PRELOAD_PAGES_ENV))
        with protocol.single_threaded_imports():
            before = dict(os.environ)
            for name in (*PRELOAD, *(PRELOAD_PAGES if pages else ())):
                importlib.import_module(name)
            # What the imports set in the environment, as they would in a fresh kernel (pydevd: PYDEVD_USE_FRAME_EVAL).
            self.import_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
            if pages:
                _preload_pages()
            else:
                _prepare_figures()
                kommuner = os.environ.pop(protocol.PRELOAD_KOMMUNER_ENV, "").split("\n")
                self.data_to_preload = _preload_batch(os.environ.pop(protocol.PRELOAD_DATA_ENV, ""), kommuner)
        # Everything loaded so far lives as long as the server: kept out of the collector's reach, a kernel's garbage
        # collections do not write to these objects' headers, so their memory stays shared with the server instead
        # of being copied into every kernel (the use the documentation of gc.freeze gives).
        gc.freeze()

    def listen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(self.path + ".tmp")
        os.chmod(self.path + ".tmp", 0o600)  # only this user may ask for kernels
        listener.listen(64)
        os.replace(self.path + ".tmp", self.path)  # clients see the socket only once it accepts requests
        self.listener = listener
        # SIGCHLD wakes the select() below through this pipe, so finished kernels are collected at once.
        read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wakeup = (read_end, write_end)
        signal.set_wakeup_fd(write_end)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.signal(signal.SIGTERM, _exit_on_signal)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the whole group: the owner decides

    # -- the loop -----------------------------------------------------------------------------------------------

    def serve(self) -> None:
        assert self.listener is not None and self.wakeup is not None
        owner = sys.stdin.fileno()
        while True:
            owners = {fd: pid for pid, fd in self.owners.items()}
            ready, _, _ = select.select([self.listener, self.wakeup[0], owner, *owners], [], [], 5.0)
            self.collect()
            for fd in ready:
                if fd in owners:
                    self.owner_gone(owners[fd])
            if self.wakeup[0] in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wakeup[0], 4096)
            if owner in ready and not os.read(owner, 4096):
                return  # the owner closed the pipe or died
            if self.listener in ready:
                conn, _address = self.listener.accept()
                try:
                    self.handle(conn)
                finally:
                    conn.close()

    def collect(self) -> None:
        """Reap every finished kernel (no zombies) and remember its exit code for the clients."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid not in self.children:  # a kernel's subprocess orphaned by its kernel (this server is a subreaper)
                continue
            self.children[pid] = os.waitstatus_to_exitcode(status)
            self.owner_of.pop(pid, None)
            self.remove_sockets(pid)

    def owner_gone(self, owner: int) -> None:
        """Kill the kernels a process that has ended asked for: no one will use or stop them (a worker of a run that
        was killed leaves its notebook's kernel running otherwise, until the whole run ends)."""
        os.close(self.owners.pop(owner))
        for pid, who in list(self.owner_of.items()):
            if who == owner:
                del self.owner_of[pid]
                if self.children.get(pid, 0) is None:
                    _kill_group(pid)

    def remove_sockets(self, pid: int) -> None:
        """Remove the socket files of a kernel that has exited: a killed kernel cannot remove them itself, and its
        kernel manager may never get to (a driver killed with its kernels)."""
        for path in self.sockets.pop(pid, []):
            with contextlib.suppress(OSError):
                os.unlink(path)

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)  # a client that stops half-way must not hold up the others
        try:
            message, fds = protocol.receive(conn)
        except (OSError, ValueError):
            return
        try:
            op = message.get("op")
            if op == "fork":
                reply, out = self.fork(conn, message, fds)
                protocol.send(conn, reply, out)
                for fd in out:
                    os.close(fd)
            elif op == "status":
                self.collect()
                protocol.send(conn, {"exitcode": self.children.get(int(message["pid"]), "unknown")})
            elif op == "forget":
                if self.children.get(int(message["pid"])) is not None:
                    del self.children[int(message["pid"])]
                protocol.send(conn, {"ok": True})
            elif op == "ping":
                protocol.send(conn, {"pid": os.getpid(), "running": [p for p, c in self.children.items() if c is None]})
            else:
                protocol.send(conn, {"error": f"unknown request {op!r}"})
        except OSError:
            pass  # the client went away; a kernel forked for it is killed by its provisioner or at exit
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def fork(self, conn: socket.socket, message: dict, fds: list[int]) -> tuple[dict, list[int]]:
        if self.data_to_preload:  # once: whether or not the slices are there now, the run has written what it will
            (folder, kommuner), self.data_to_preload = self.data_to_preload, ()
            _preload_batch(folder, kommuner)
            gc.freeze()  # as in `prepare`: the data stay shared with the kernels
        problem = self._check_sound(message, fds)
        if problem:
            return {"error": problem}, []
        # Buffered output would otherwise be written twice, once by each process.
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_kernel(conn, message, fds)  # never returns
        self.children[pid] = None
        self.sockets[pid] = ipc_files(message["argv"], message.get("cwd") or os.getcwd())
        owner = _peer_pid(conn)
        if owner:
            self.owner_of[pid] = owner
            if owner not in self.owners:
                with contextlib.suppress(OSError):  # gone already: the kernel then lives until this server ends
                    self.owners[owner] = os.pidfd_open(owner)
        # A pidfd made by the parent before it can reap the child names exactly this process, even after its pid
        # is reused: the client polls and signals through it.
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return {"pid": pid}, []
        return {"pid": pid}, [pidfd]

    def _check_sound(self, message: dict, fds: list[int]) -> str:
        """Why forking would not give what a fresh kernel gives ('' when it would)."""
        threads = protocol.threads()
        if threads != 1:  # another thread might hold a lock (malloc's, the GIL's helpers) that no one would release
            return f"the fork server has {threads} threads"
        if len(fds) != 2:
            return "stdout and stderr were not passed"
        wanted = protocol.fingerprint(message.get("env") or {})
        names = {*wanted, *self.fingerprint}
        differs = sorted(name for name in names if wanted.get(name, "") != self.fingerprint.get(name, ""))
        if differs:
            return "the kernel's environment differs from the fork server's in " + ", ".join(differs)
        return ""

    # -- the child ----------------------------------------------------------------------------------------------

    def _become_kernel(self, conn: socket.socket, message: dict, fds: list[int]) -> None:
        code = 1
        try:
            self._reset_in_child(conn, message, fds)
            code = _run_kernel(message["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            # Never return into the server's loop: exit here, after the exit handlers the kernel registered.
            with contextlib.suppress(BaseException):
                protocol.end_process(code)
            os._exit(code)  # only if ending it failed

    def _reset_in_child(self, conn: socket.socket, message: dict, fds: list[int]) -> None:
        # The server's sockets and pipes belong to the server: a kernel holding the listening socket or the owner
        # pipe would keep them alive after the server is gone. Closed through their objects, so that no object
        # closes a reused descriptor number later.
        conn.close()
        assert self.listener is not None and self.wakeup is not None
        self.listener.close()
        signal.set_wakeup_fd(-1)
        for fd in (*self.wakeup, *self.owners.values()):
            os.close(fd)
        # The server's signal handlers are not the kernel's: SIGINT must raise KeyboardInterrupt (interrupting a
        # cell), SIGTERM and SIGCHLD must do what they do in a fresh process.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Its own session and process group, as jupyter_client's launcher gives a kernel (start_new_session): the
        # provisioner signals the group, the kernel's own subprocesses included.
        os.setsid()
        protocol.lower_priority(self.kernel_nice)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # not the owner's pipe: the server must see EOF when its owner goes
        os.close(devnull)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        os.environ.clear()
        os.environ.update(message["env"])
        for name, value in self.import_env.items():  # as the import would set it in a fresh kernel, unless given
            os.environ.setdefault(name, value)
        # The launcher names the kernel's parent here; ipykernel's parent poller ends the kernel when the parent
        # changes. The fork server is this kernel's parent: if it goes, so does the kernel.
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        os.chdir(message.get("cwd") or os.getcwd())
        # Random streams: `random` reseeds itself after a fork (os.register_at_fork); numpy's global generator does
        # not, so every kernel would draw the same numbers.
        import numpy as np

        np.random.seed()  # noqa: NPY002 - the legacy global generator is the one a notebook may use


def _preload_pages() -> None:
    """The pages' data, loaded once for every page kernel (`kompas serve`); without them each kernel loads its own."""
    try:
        from kompas_helpers import widgets

        widgets.preload()
    except Exception as exc:  # the data may be missing or broken: the page then says so to its reader, in Danish
        print(f"kompas: fork-serveren indlæste ikke sidernes data ({type(exc).__name__}: {exc})", file=sys.stderr)


def _prepare_figures() -> None:
    """The reports' reused figures made and drawn once (plots.prepare_figures) for every kernel of a batch."""
    try:
        from kompas_helpers import plots

        plots.prepare_figures()
    except Exception as exc:  # the kernels make their figures themselves, as without the server
        print(f"kompas: fork-serveren forberedte ikke figurerne ({type(exc).__name__}: {exc})", file=sys.stderr)


def _preload_batch(folder: str, kommuner: list[str]) -> tuple[str, list[str]] | tuple[()]:
    """The run's dataset (named by `kompas run`, client.start's preload_data), loaded once for every kernel: its
    notebooks then neither read nor decode the slices' shared part and the input tables, nor join the tables of the
    run's `kommuner`, nor make the peer groups (bundle.preload).

    Returns (folder, kommuner) when its slices are not written yet (a dataset's first run computes its table while
    the server imports): the server then loads it before its first fork, which comes after the slices are written.
    """
    from kompas_helpers import bundle

    if not folder:
        return ()
    try:
        return () if bundle.preload(folder, [k for k in kommuner if k]) else (folder, kommuner)
    except Exception as exc:  # the kernels read the data themselves, and report what is wrong with it
        print(f"kompas: fork-serveren indlæste ikke kørslens data ({type(exc).__name__}: {exc})", file=sys.stderr)
        return ()


def _run_kernel(argv: list[str]) -> int:
    """What `python -m ipykernel_launcher <argv>` does, in this process."""
    import ipykernel_launcher
    from ipykernel import kernelapp

    sys.argv = [ipykernel_launcher.__file__, *argv]
    if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher: the cwd is added back by IPython
        del sys.path[0]
    app = kernelapp.IPKernelApp.instance()
    # This trait's default was read from the environment when the server imported kernelapp; read it again.
    app.parent_handle = int(os.environ.get("JPY_PARENT_PID") or 0)
    app.initialize(sys.argv[1:])
    # ipywidgets registers its comm target when it is imported inside a running kernel; if the server imported it
    # (for the pages) before the kernel existed, register it now, as that import would have.
    if "ipywidgets" in sys.modules:
        sys.modules["ipywidgets"].register_comm_target()
    app.start()
    return 0


def ipc_files(argv: list[str], cwd: str) -> list[str]:
    """The Unix socket files a kernel started with `argv` in `cwd` binds: none unless its connection file says
    ipc."""
    from jupyter_client.connect import port_names  # imported already: ipykernel is preloaded (PRELOAD)

    path = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-f"), None)
    path = path or next((arg[4:] for arg in argv if arg.startswith("--f=")), None)
    try:
        with open(os.path.join(cwd, path or ""), encoding="utf-8") as file:
            info = json.load(file)
    except (OSError, ValueError):
        return []
    if info.get("transport") != "ipc" or not info.get("ip"):
        return []
    return [os.path.join(cwd, f"{info['ip']}-{info[name]}") for name in port_names if name in info]


def _peer_pid(conn: socket.socket) -> int:
    """The process id of the client at the other end of a Unix socket (from its credentials; 0 if unknown)."""
    try:
        pid, _uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except (OSError, struct.error):
        return 0
    return pid


def _kill_group(pid: int) -> None:
    """SIGKILL a kernel and its process group (it leads one: its own subprocesses go with it)."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def stop_children(server: Server) -> None:
    """Kill every kernel still running (with its process group) and collect them all."""
    for pid, code in list(server.children.items()):
        if code is None:
            _kill_group(pid)
    for pid, code in list(server.children.items()):
        if code is None:
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(pid, 0)
                server.children[pid] = os.waitstatus_to_exitcode(status)
            server.remove_sockets(pid)
    server.collect()  # kernels' subprocesses that were orphaned and have ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    if sys.path and sys.path[0] in ("", os.getcwd()):  # `-m` put the cwd first; a kernel does not have it
        del sys.path[0]
    server = Server(args.socket)
    # A kernel killed while a subprocess of its own runs leaves that subprocess to the nearest subreaper above it:
    # this server, which collects it (`collect`), rather than its owner, which would keep it as a zombie for as long
    # as it runs (`kompas serve`: for days).
    protocol.become_subreaper()
    server.prepare()
    server.listen()
    try:
        server.serve()
    except SystemExit:
        pass
    finally:
        stop_children(server)
        with contextlib.suppress(OSError):
            os.unlink(args.socket)
        # The folder the owner made for the socket (kernels.client.ForkServer), when the owner was killed before it
        # could remove it; only if empty, and only a folder of that name.
        folder = os.path.dirname(args.socket)
        if os.path.basename(folder).startswith(protocol.SOCKET_FOLDER_PREFIX):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
    return 0


if __name__ == "__main__":
    # The server has no threads (see `_check_sound`); its owner waits for its end.
    protocol.end_process(main())
