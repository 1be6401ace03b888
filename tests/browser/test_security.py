"""Meeting-room settings, checked against the running server: no code execution, no overrides, no CDN, culling."""

from __future__ import annotations

import json
import time
import urllib.request
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CULL_IDLE_TIMEOUT
from tests.browser.selectors import LIVE_FIGURE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

# Sends one message on the page's kernel channels and collects what comes back for a while.
KERNEL_PROBE_JS = """
async ([kernelId, msgType, content, waitMs]) => {
  const url = `ws://${location.host}/api/kernels/${kernelId}/channels?session_id=probe-${msgType}`;
  const ws = new WebSocket(url);
  const replies = [];
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.onmessage = (event) => {
    if (typeof event.data === "string") {
      const msg = JSON.parse(event.data);
      replies.push({type: msg.header.msg_type, parent: msg.parent_header.msg_id || null});
    }
  };
  const msgId = `probe-${msgType}-${Date.now()}`;
  ws.send(JSON.stringify({
    header: {msg_id: msgId, username: "probe", session: `probe-${msgType}`, msg_type: msgType, version: "5.3",
             date: new Date().toISOString()},
    parent_header: {}, metadata: {}, content: content, channel: "shell", buffers: [],
  }));
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  ws.close();
  return replies.filter((r) => r.parent === msgId).map((r) => r.type);
}
"""


def kernel_id(page) -> str:
    return json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"]


def test_execute_request_over_the_kernel_websocket_is_refused(page, voila_server, tmp_path):
    marker = tmp_path / "executed.txt"
    page.goto(voila_server.url())
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    kid = kernel_id(page)

    # The channel itself works: a kernel_info_request is answered ...
    info = page.evaluate(KERNEL_PROBE_JS, [kid, "kernel_info_request", {}, 3000])
    assert "kernel_info_reply" in info
    # ... but code sent to the kernel is dropped by the server and never runs.
    code = f"open({str(marker)!r}, 'w').write('executed')"
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
    replies = page.evaluate(KERNEL_PROBE_JS, [kid, "execute_request", content, 5000])
    assert replies == []
    assert not marker.exists()
    assert 'Received message of type "execute_request", which is not allowed' in voila_server.log_text()


@pytest.mark.parametrize("query", ["template=reveal&theme=dark", "voila-template=reveal&voila-theme=dark"])
def test_template_and_theme_cannot_be_overridden_from_the_url(voila_server, query):
    with urllib.request.urlopen(voila_server.url(query=query), timeout=120) as response:
        text = response.read().decode("utf-8")
    assert 'data-jp-theme-name="JupyterLab Light"' in text
    assert "JupyterLab Dark" not in text
    assert "reveal" not in text.lower()


def test_every_request_stays_on_this_machine(page, voila_server):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.goto(voila_server.url(query="kommune=461"))
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()
    page.get_by_label("Kommune").select_option(label="Aalborg")
    expect(page.locator(".kompas-heading h1")).to_contain_text("Aalborg")
    page.get_by_role("tab", name="Social").click()
    expect(page.get_by_role("heading", name="S1 Medarbejdertrivsel")).to_be_visible()
    page.goto(voila_server.url("compare.ipynb", "indicator=E1"))
    expect(page.locator(LIVE_FIGURE).first).to_be_visible()

    remote = [url for url in requests if not url.startswith("data:") and urlparse(url).hostname not in LOCAL_HOSTS]
    assert len(requests) > 20
    assert remote == []


def test_ten_sessions_render_at_once_and_their_kernels_go_away(browser, voila_server):
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(10)]
    kommuner = ["101", "147", "151", "153", "155", "157", "159", "161", "163", "165"]
    pages = []
    for ctx, code in zip(contexts, kommuner, strict=True):
        ctx.set_default_timeout(240_000)
        page = ctx.new_page()
        page.goto(voila_server.url(query=f"kommune={code}"), wait_until="commit")
        pages.append(page)
    kernel_ids = []
    for page in pages:
        expect(page.locator(LIVE_FIGURE).first).to_be_visible()
        expect(page.locator(".kompas-heading h1")).to_contain_text("ESG-kompas")
        kernel_ids.append(kernel_id(page))
    assert len(set(kernel_ids)) == 10
    assert all(voila_server.kernel_exists(kid) for kid in kernel_ids)

    for ctx in contexts:
        ctx.close()
    deadline = time.monotonic() + CULL_IDLE_TIMEOUT + 90
    alive = list(kernel_ids)
    while alive and time.monotonic() < deadline:
        time.sleep(2)
        alive = [kid for kid in alive if voila_server.kernel_exists(kid)]
    assert alive == [], f"kernels still running after their pages closed: {alive}"
