"""Tornado handlers (and the identity provider installing the login page) that `kompas serve` adds to Voilà."""

from __future__ import annotations

import asyncio
import weakref

from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from voila.tornado.handler import TornadoVoilaHandler
from voila.voila_identity_provider import VoilaLoginHandler

from kompas_helpers import page_snapshots


class _ProjectTemplates:
    """Pages rendered from Voilà's template environment (the project template first on its search path), not from
    Jupyter Server's own templates."""

    def get_template(self, name):
        return self.settings["voila_jinja2_env"].get_template(name)


class NotFoundHandler(_ProjectTemplates, JupyterHandler):
    """Every URL that matches none of Voilà's routes: our template's Danish 404 page instead of Tornado's English one.

    Authentication works as on Voilà's own pages: with a token, a reader without it is sent to the login page first.
    """

    async def prepare(self) -> None:
        await super().prepare()
        if not self._finished:
            raise web.HTTPError(404)


class LoginHandler(_ProjectTemplates, VoilaLoginHandler):
    """The login page shown with `--token`: our template's Danish login.html instead of Jupyter Server's English one.

    Only the template changes; the form posts the same fields (`password`, `_xsrf`) and the login works as before.
    """


PAGE_PREFIX = "/voila/render/"


class IdentityProvider(PasswordIdentityProvider):
    """Voilà's default identity provider, with our Danish login page.

    Installed through the configurable `Voila.identity_provider_class`. Configuring `login_handler_class` alone is not
    enough: Voilà passes `login_handler_class=VoilaLoginHandler` as a constructor argument, which overrides any config.
    """

    def __init__(self, **kwargs) -> None:
        kwargs["login_handler_class"] = LoginHandler
        super().__init__(**kwargs)

    async def _get_user(self, handler):
        user = await super()._get_user(handler)
        if user is not None and handler.request.method == "GET" and handler.request.path.startswith(PAGE_PREFIX):
            # A closed page asks Voilà to shut its kernel down (a beacon to /voila/api/shutdown/<id> carrying the
            # _xsrf cookie). Voilà's page handler never sets that cookie, so the request was refused (403) and the
            # kernel ran on until culled; reading the token sets the cookie with the page.
            handler.current_user = user  # what the handler sets next; the token is made for this user
            handler.xsrf_token  # noqa: B018
        return user


# The Tornado setting naming the folder of the pages' stored first views (kompas_helpers.page_snapshots).
SNAPSHOTS_SETTING = "kompas_page_snapshots"


# After sending a stored view, a request waits until no other request has sent one for EARLY_QUIET_S seconds (at most
# EARLY_WAIT_MAX_S) before Voilà's work for it starts, and then for its turn: Voilà's start of a page holds the
# server's event loop for about 0.1 s (reading the notebook, making the exporter, forking the kernel), so of 30 readers
# arriving together each waited for the Voilà starts of those before to see their view (the last 2.7 s, measured).
# With the wait, the views of a crowd go out first; with the turns, one page's Voilà start goes per turn of the event
# loop, which reads and answers the requests still coming in between them (without turns, the waiting requests all
# woke in the same turn and held the loop for 2 s). A lone reader's live page starts EARLY_QUIET_S later; the view
# is there already.
EARLY_QUIET_S = 0.05
EARLY_WAIT_MAX_S = 1.0


class _EarlySends:
    """When the server last sent a stored view (the event loop's clock), and the turns of the Voilà starts after."""

    last = float("-inf")
    _last_turn: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future] = weakref.WeakKeyDictionary()

    @classmethod
    async def sent_then_wait_for_turn(cls) -> None:
        loop = asyncio.get_running_loop()
        cls.last = loop.time()
        deadline = cls.last + EARLY_WAIT_MAX_S
        while (now := loop.time()) < (until := min(cls.last + EARLY_QUIET_S, deadline)):
            await asyncio.sleep(until - now)
        before = cls._last_turn.get(loop)
        mine = cls._last_turn[loop] = loop.create_future()
        try:
            if before is not None:
                # wait(), not await: a request closed while waiting must not cancel the turn of the one before.
                await asyncio.wait([before])
        finally:
            # The next request's turn comes in a later turn of the loop (after this one's Voilà start), also when
            # this one was closed while waiting.
            mine.set_result(None)


class PageHandler(TornadoVoilaHandler):
    """Voilà's page handler, sending a page's stored first view (page_snapshots) before its kernel has run a cell.

    When the address has a stored view and the page's HTML up to its cells (the "head": template text, the same for
    every request of a page) is known, the head and the view are sent at once, before Voilà has a kernel for the
    request; Voilà's own head is then left out of the stream. The head is known from a page already sent, or from a
    preheated kernel that has rendered it. In the stream, the kernel's copy of the same view is left out.
    """

    heads: dict[str, str] = {}  # page path -> its head as last sent; template text, so the same for the server's life

    @web.authenticated
    async def get(self, path=None):
        view = page_snapshots.lookup(self.settings.get(SNAPSHOTS_SETTING), path or "", self.request.query)
        head = (self.heads.get(path) or self._preheated_head(path)) if view is not None else None
        splice = page_snapshots.Splice(view, head)
        if head is not None:
            # What Voilà's handler sets before its first text; it is sent with this first flush.
            self.set_header("Content-Type", "text/html")
            self.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
            self.set_header("Pragma", "no-cache")
            self.set_header("Expires", "0")
            self.write(page_snapshots.early_text(view, head))
            self.flush()
            self.log.info("kompas: første visning sendt før kernen: %s?%s", path, self.request.query)
            await _EarlySends.sent_then_wait_for_turn()
        try:
            async for html in self.get_generator(path=path):
                text = splice.feed(html)
                if splice.head_seen is not None and path and not splice.head_differed:
                    self.heads[path] = splice.head_seen
                if text:
                    self.write(text)
                    self.flush()
        except Exception:
            if head is None:
                raise  # nothing of ours was sent: the error page, as without stored views
            # The reader has the stored view already, and no error page can follow it: say that it stays as it is.
            self.log.exception("kompas: siden blev ikke levende efter første visning: %s?%s", path, self.request.query)
            self.write(page_snapshots.NOT_LIVE_HTML_DA)
        if splice.head_differed:
            self.log.warning("kompas: sidens hoved var ændret efter første visning: %s", path)
            self.heads.pop(path, None)

    def _preheated_head(self, path: str | None) -> str | None:
        """The head as a preheated kernel of the page has rendered it, when one has; None otherwise.

        Reads Voilà 0.5's pool (`VoilaKernelManager._pools`: per notebook, tasks resolving to a dict whose "renderer"
        holds `rendered_cache`). Voilà keeps no public handle on it; if that changes, the first request of a page
        simply sends its view at the anchor instead of at once (tests/browser/test_page_snapshots.py notices).
        """
        pools = getattr(self.kernel_manager, "_pools", None)
        if not path or not isinstance(pools, dict):
            return None
        for item in pools.get(path, ()):
            if not (isinstance(item, asyncio.Future) and item.done()) or item.cancelled() or item.exception():
                continue
            rendered = "".join(getattr(item.result().get("renderer"), "rendered_cache", None) or ())
            at = rendered.find(page_snapshots.ANCHOR)
            if at >= 0:
                return rendered[:at]
        return None
