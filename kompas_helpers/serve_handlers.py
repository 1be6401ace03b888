"""Tornado handlers that `kompas serve` adds to Voilà's server."""

from __future__ import annotations

from jupyter_server.base.handlers import JupyterHandler
from tornado import web


class NotFoundHandler(JupyterHandler):
    """Every URL that matches none of Voilà's routes: our template's Danish 404 page instead of Tornado's English one.

    Authentication works as on Voilà's own pages: with a token, a reader without it is sent to the login page first.
    """

    def get_template(self, name):
        # Voilà's template environment (our template first on its search path), not Jupyter Server's own templates.
        return self.settings["voila_jinja2_env"].get_template(name)

    async def prepare(self) -> None:
        await super().prepare()
        if not self._finished:
            raise web.HTTPError(404)
