"""A jupyter_client kernel provisioner that forks kernels from this process's fork server ("kompas-fork").

Named in a kernel spec's metadata (`{"kernel_provisioner": {"provisioner_name": "kompas-fork"}}`, the kernel spec
`kompas-fork` in `kompas_helpers/jupyter/kernels/`) or made the default provisioner, so Papermill (through
nbclient) and Voilà (through jupyter_server) get forked kernels without being patched. Without a fork server, or
when the server refuses, it starts the kernel the way jupyter_client's LocalProvisioner does, with one log line.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import uuid
from importlib.metadata import EntryPoint
from typing import Any

from jupyter_client.connect import KernelConnectionInfo, port_names
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner

from kompas_helpers import paths
from kompas_helpers.kernels import client, protocol

NAME = "kompas-fork"
KERNEL_NAME = "kompas-fork"  # the kernel spec naming this provisioner
KERNELS_DIR = paths.PACKAGE_DIR / "jupyter" / "kernels"
IPC_PREFIX = "kompas-"  # the kernels' socket files: <runtime dir>/kompas-<12 hex>-<1…5>
SOCKET_PATH_MAX = 100  # a Unix socket's path must fit sockaddr_un (108 bytes with its terminator)


def register() -> None:
    """Make the provisioner known to jupyter_client in this process.

    An installed package registers it as an entry point (pyproject.toml); this adds the same entry to the
    factory's table of provisioners, which it consults before looking for entry points, so an editable install
    made before the entry point existed works too.
    """
    value = f"{ForkProvisioner.__module__}:{ForkProvisioner.__name__}"
    KernelProvisionerFactory.provisioners[NAME] = EntryPoint(NAME, value, KernelProvisionerFactory.GROUP_NAME)


def kernel_spec_manager():
    """A kernel spec manager that also finds the package's `kompas-fork` kernel spec."""
    from jupyter_client.kernelspec import KernelSpecManager

    register()
    manager = KernelSpecManager()
    manager.kernel_dirs = [str(KERNELS_DIR), *manager.kernel_dirs]
    return manager


def kernel_arguments(cmd: list[str]) -> list[str] | None:
    """The arguments after `-m ipykernel_launcher` when `cmd` starts a kernel of this very Python, else None."""
    if not cmd or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
        return None
    flags = 1
    while flags < len(cmd) and cmd[flags] in protocol.SERVER_FLAGS:  # the server runs with these flags too
        flags += 1
    if cmd[flags : flags + 2] != ["-m", protocol.LAUNCHER]:
        return None
    return cmd[flags + 2 :]


class ForkProvisioner(LocalProvisioner):
    """LocalProvisioner's life cycle (poll, wait, signals, kill, cleanup) on a forked kernel process.

    LocalProvisioner drives `self.process` through the Popen methods it uses (poll, wait, send_signal, kill,
    terminate) and signals the process group first; a forked kernel is a `client.ForkedKernel`, which answers the
    same methods through the fork server and a pidfd, and leads its own process group as a launched kernel does.
    """

    forked = False

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if km is not None and client.current() is not None and km.transport == "tcp":
            prefix = ipc_prefix()
            if prefix is not None:
                use_ipc(km, prefix)
        return await super().pre_launch(**kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        server = client.current()
        reason = _why_not(server, cmd, kwargs)
        if not reason:
            assert server is not None
            try:
                kernel = _fork(server, cmd, kwargs)
            except client.ForkError as exc:
                reason = str(exc)
            else:
                self.process, self.pid, self.pgid, self.forked = kernel, kernel.pid, kernel.pid, True
                self.cwd = kwargs.get("cwd", pathlib.Path.cwd())
                return self.connection_info
        client.fallback_line(reason)
        return await super().launch_kernel(cmd, **kwargs)

    async def send_signal(self, signum: int) -> None:
        # Never signal the group of a kernel that has exited: its pid (the group's number) may be reused by now.
        if self.forked and self.process is not None and self.process.poll() is not None:
            return
        await super().send_signal(signum)

    async def get_provisioner_info(self) -> dict:
        info = await super().get_provisioner_info()
        info["forked"] = self.forked
        return info


def ipc_prefix() -> str | None:
    """A socket path prefix no other kernel has (in Jupyter's runtime folder), or None when it would be too long."""
    from jupyter_core.paths import jupyter_runtime_dir

    folder = jupyter_runtime_dir()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    prefix = os.path.join(folder, f"{IPC_PREFIX}{uuid.uuid4().hex[:12]}")
    return prefix if len(prefix) + 2 <= SOCKET_PATH_MAX else None


def use_ipc(km, prefix: str) -> None:
    """Let the kernel of `km` listen on Unix sockets named `prefix`-1 … -5 instead of TCP ports on localhost.

    Why: a TCP port is picked by binding port 0 and closing it again, and the kernel binds it later. In between,
    any outgoing connection on the machine (the server's own ZMQ connections to other kernels) can get that port as
    its ephemeral source port; the kernel then dies on "Address already in use", and jupyter_client restarts it on
    the same cached ports, which stay taken. With kernels forked in milliseconds and many pages opening at once, a
    page's kernel died that way. A socket path unique to the kernel cannot be taken by anyone else, and the kernel
    manager removes the files when the kernel stops (`cleanup_ipc_files`).
    """
    km.transport = "ipc"
    km.ip = prefix
    km.cache_ports = False  # LocalPortCache hands out TCP ports; with ipc the "ports" are the files' numbers
    for name in port_names:
        setattr(km, name, 0)


def _why_not(server, cmd: list[str], kwargs: dict) -> str:
    if server is None:
        return "fork-serveren er slået fra" if protocol.disabled() else "ingen fork-server i denne proces"
    if kernel_arguments(cmd) is None:
        return f"kernens kommando er ikke {sys.executable} -m {protocol.LAUNCHER}"
    for name in ("stdout", "stderr"):
        if kwargs.get(name) == subprocess.PIPE:
            return f"{name} som rør understøttes ikke"
    return ""


def _descriptor(target, default: int) -> tuple[int, bool]:
    """A descriptor for the kernel's stdout or stderr, and whether it was opened here (and must be closed)."""
    if target is None:
        return default, False
    if target == subprocess.DEVNULL:
        return os.open(os.devnull, os.O_WRONLY), True
    if isinstance(target, int):
        return target, False
    return target.fileno(), False


def _fork(server: client.ForkServer, cmd: list[str], kwargs: dict) -> client.ForkedKernel:
    env = kwargs.get("env") or dict(os.environ)
    cwd = kwargs.get("cwd") or os.getcwd()
    opened = []
    try:
        fds = []
        for name, default in (("stdout", 1), ("stderr", 2)):
            fd, mine = _descriptor(kwargs.get(name), default)
            fds.append(fd)
            if mine:
                opened.append(fd)
        argv = kernel_arguments(cmd)
        assert argv is not None
        return server.fork(argv, env, str(cwd), fds[0], fds[1])
    finally:
        for fd in opened:
            os.close(fd)
