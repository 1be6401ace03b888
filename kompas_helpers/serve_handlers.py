"""Tornado handlers (and the identity provider installing the login page) that `kompas serve` adds to Voilà."""

from __future__ import annotations

from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from voila.voila_identity_provider import VoilaLoginHandler


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
