"""Serve the Voilà pages on 127.0.0.1 with settings fit for a meeting room (no code, no tracebacks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace

from traitlets.config import Config

from kompas_helpers import paths
from kompas_helpers.kernels import protocol
from kompas_helpers.serve_handlers import SNAPSHOTS_SETTING, IdentityProvider, NotFoundHandler, PageHandler

# Cells with this tag block a preheated kernel until a reader's request arrives, so they must never time out.
WAIT_TAG = "wait-for-request"
# The pages kept warm in a pool of preheated kernels; other notebooks (the analysts' udforsk) start on demand.
PREHEATED_PAGES = ("dashboard.ipynb", "compare.ipynb")
# Our Voilà template (the lab template without CDN assets) lives under this Jupyter data folder.
JUPYTER_DATA_DIR = paths.PACKAGE_DIR / "jupyter"
TEMPLATE = "kompas"
# The kernel provisioner that forks kernels from the fork server (kompas_helpers/kernels/provisioner.py).
FORK_PROVISIONER = "kompas-fork"
DATA_ENV = paths.DATA_ENV  # the dataset folder the pages read
# The page kernels' CPU priority below this server's. Each kernel leads a session of its own (as jupyter_client
# starts one), and Linux shares the CPU between sessions: with 28 kernels at work, this server (which sends every
# page, its style sheets and scripts, and every widget message) got a 29th of the CPU, and 30 readers arriving
# together saw nothing for 16 s although each page's first view was ready to send. At 15, 28 busy kernels weigh
# about as much as the server, so it keeps about one core when it needs it; alone, a kernel still gets all that is
# free.
KERNEL_NICE = 15


@dataclass(frozen=True)
class ServeOptions:
    port: int = 8866
    token: str = ""
    preheat: bool = True
    pool_size: int = 2
    refill_delay: float = 3.0  # seconds before a page's pool starts the kernel that replaces one a reader took
    cell_timeout: int = 120
    # A closed page shuts its kernel down itself (Voilà's unload beacon, within a second); culling catches the
    # kernels of pages that could not say so (a crashed browser). An open page's kernel is never culled
    # (cull_connected is off); the idle time must exceed the gap between rendering and the page connecting. With 60 s,
    # 23 of 30 readers who opened the dashboard at once lost their kernel before their browser (30 pages on 2 cores)
    # had connected, and their pages never came alive; a reader on a slow device or network could meet the same.
    cull_idle_timeout: int = 300
    cull_interval: int = 10
    data: str = ""
    # Kernels forked from the fork server (kompas_helpers.kernels), off with `kompas serve --no-fork`. They listen on
    # Unix sockets of their own (provisioner.use_ipc): on TCP ports, one page kernel died on "Address already in
    # use" and jupyter_client restarted it on the same taken ports.
    fork: bool = True
    # The pages' first views drawn in advance by a process at the lowest CPU priority (page_snapshots), off with
    # `kompas serve --no-snapshots`. The folder they are stored in; made by `run`.
    snapshots: bool = True
    snapshot_store: str = ""


def cell_timeout(seconds: int):
    """nbclient's timeout_func: no limit for the cell waiting for a request, `seconds` for every other cell."""

    def timeout(cell) -> int | None:
        tags = cell.get("metadata", {}).get("tags", [])
        return None if WAIT_TAG in tags else seconds

    return timeout


def voila_config(options: ServeOptions) -> Config:
    """The complete Voilà configuration; nothing is read from voila.json/voila.py files, so nothing overrides it."""
    c = Config()
    c.Voila.ip = "127.0.0.1"
    c.Voila.port = options.port
    c.Voila.port_retries = 0
    c.Voila.open_browser = False
    c.Voila.token = options.token
    c.Voila.root_dir = str(paths.NOTEBOOKS_DIR)
    c.Voila.config_file_paths = []
    # URLs outside Voilà's routes get the template's Danish 404 page too (Tornado's own page is bare English).
    c.Voila.tornado_settings = {"default_handler_class": NotFoundHandler}
    if options.snapshots and options.snapshot_store:
        c.Voila.tornado_settings[SNAPSHOTS_SETTING] = options.snapshot_store
    # With a token, a reader without it gets the template's Danish login page (Jupyter Server's is English).
    c.Voila.identity_provider_class = IdentityProvider

    c.VoilaConfiguration.template = TEMPLATE
    c.VoilaConfiguration.theme = "light"
    c.VoilaExporter.language_code = "da"
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.allow_template_override = "NO"
    c.VoilaConfiguration.allow_theme_override = "NO"
    # The pages need no files from the notebooks folder.
    c.VoilaConfiguration.file_allowlist = []
    c.VoilaConfiguration.preheat_kernel = options.preheat
    c.VoilaConfiguration.default_pool_size = options.pool_size if options.preheat else 0

    c.VoilaExecutor.timeout = options.cell_timeout
    c.VoilaExecutor.timeout_func = cell_timeout(options.cell_timeout)
    c.VoilaExecutor.show_tracebacks = False
    # After a cell's reply, nbclient waits this long for the cell's remaining output and then drops it. Its default
    # (4 s) is too short when many readers open pages at once on a small machine: this server's own loop then falls
    # behind, and a page lost its figures for good (30 readers with the pool refilled after 1 s: 82 such drops).
    c.VoilaExecutor.iopub_timeout = options.cell_timeout

    c.MappingKernelManager.cull_idle_timeout = options.cull_idle_timeout
    c.MappingKernelManager.cull_interval = options.cull_interval
    # An open page keeps its kernel; a closed page shuts its kernel down itself, and culling catches the rest.
    c.MappingKernelManager.cull_connected = False
    c.MappingKernelManager.cull_busy = False

    if options.fork:
        # Every kernel the pages start (the preheated ones too) is a fork of the server `run` starts.
        c.KernelProvisionerFactory.default_provisioner_name = FORK_PROVISIONER

    if options.preheat:
        pool = {"pool_size": options.pool_size, "kernel_env_variables": {}}
        c.VoilaKernelManager.kernel_pools_config = {
            "default": {"pool_size": 0, "kernel_env_variables": {}},
            **{page: pool for page in PREHEATED_PAGES},
        }
        # Voilà counts a refill that is still waiting out this delay as part of the pool and hands it to the next
        # reader, who then waits for the delay too: readers arriving together are served a pool's size per delay.
        # 30 readers at once on 2 cores (bench_voila_readers, Chromium on the same cores): 10 s gave median 75.9 s,
        # worst 148.6 s with the machine half idle; 1 s started every kernel at once and all finished late (98.5 s,
        # 100.9 s); 3 s keeps the cores busy and serves the readers in turn (68.2 s, 89.2 s).
        c.VoilaKernelManager.fill_delay = options.refill_delay
    return c


def voila_app():
    """Voilà's application with our page handler (serve_handlers.PageHandler) on its page routes."""
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class KompasVoila(Voila):
        def init_handlers(self):
            return [
                (route, PageHandler, *rest) if handler is TornadoVoilaHandler else (route, handler, *rest)
                for route, handler, *rest in super().init_handlers()
            ]

    return KompasVoila


def _lowest_priority() -> None:
    """In the warming process (its own session): the lowest CPU priority, so that readers' kernels and the server
    always come first."""
    protocol.lower_priority(19)


def start_snapshots(store: str) -> subprocess.Popen:
    """Start drawing the pages' first views into `store` (page_snapshots.main); its log lines go to the server's.

    Its stdin is a pipe only this process writes to: when this process ends, however it ends, the drawer sees the
    pipe's end and removes the store."""
    return subprocess.Popen(
        [sys.executable, "-m", "kompas_helpers.page_snapshots", store],
        stdin=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_lowest_priority,
    )


def stop_snapshots(process: subprocess.Popen, store: str) -> None:
    """Stop the drawer (drawing or waiting) and remove the store."""
    if process.poll() is None:
        process.terminate()
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(store, ignore_errors=True)


def run(options: ServeOptions) -> int:
    """Start Voilà on the notebooks folder and block until it is stopped (Ctrl-C or SIGTERM)."""
    # Kernels (preheated ones too) inherit the server's environment.
    if options.data:
        os.environ[DATA_ENV] = str(options.data)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(JUPYTER_DATA_DIR), os.environ.get("JUPYTER_PATH", "")) if p
    )
    fork = options.fork and not protocol.disabled()
    if fork:
        from kompas_helpers.kernels import client, provisioner

        provisioner.register()
        os.environ[protocol.PRELOAD_PAGES_ENV] = "1"  # the server loads the pages' data before its first kernel
        os.environ[protocol.KERNEL_NICE_ENV] = str(KERNEL_NICE)
        server = client.start(paths.NOTEBOOKS_DIR)
        if server is not None:
            server.wait_ready()  # its imports first: Voilà's first kernels would otherwise wait for them
    warmer = None
    if options.snapshots:
        store = tempfile.mkdtemp(prefix="kompas-pages-")
        warmer = start_snapshots(store)
        options = replace(options, snapshot_store=store)
    try:
        voila_app().launch_instance(argv=[], config=voila_config(replace(options, fork=fork)))
    finally:
        if warmer is not None:
            stop_snapshots(warmer, options.snapshot_store)
        if fork:
            client.stop()  # the server kills and collects any kernel Voilà left behind
    return 0
