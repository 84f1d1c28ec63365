"""Signing in through the simulator's login page in a real headless Chromium.

A tiny single-page app is served from a second loopback origin. It does what a browser app does
with Genesys Cloud: PKCE (verifier in sessionStorage, S256 challenge with WebCrypto) or the implicit
grant, then calls the API cross-origin with the person's token (CORS preflight included).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser_fixture, page_fixture, sign_in_on_login_page  # noqa: F401

from simulator.app import Simulator
from simulator.oauth_users import ADMIN_PASSWORD, ADMIN_USERNAME, VIEWER_PASSWORD, VIEWER_USERNAME

APP_JS = r"""
const out = (id, t) => { document.getElementById(id).textContent = t; };
const b64url = (bytes) => {
  let s = ''; bytes.forEach((b) => { s += String.fromCharCode(b); });
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const redirectUri = location.origin + location.pathname;
async function start(mode) {
  if (mode === 'token') {
    location.assign(CFG.login + '/oauth/authorize?' + new URLSearchParams({
      client_id: CFG.implicit, response_type: 'token', redirect_uri: redirectUri, state: 'st-implicit'}));
    return;
  }
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(64)));
  sessionStorage.setItem('pkce_verifier', verifier);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  location.assign(CFG.login + '/oauth/authorize?' + new URLSearchParams({
    client_id: CFG.pkce, response_type: 'code', redirect_uri: redirectUri,
    code_challenge: b64url(new Uint8Array(digest)), code_challenge_method: 'S256', state: 'st-pkce'}));
}
async function finish() {
  const q = new URLSearchParams(location.search);
  const h = new URLSearchParams(location.hash.slice(1));
  let token, state;
  if (q.get('error') || h.get('error')) { out('status', 'error ' + (q.get('error') || h.get('error'))); return; }
  if (q.get('code')) {
    const r = await fetch(CFG.login + '/oauth/token', {method: 'POST', body: new URLSearchParams({
      grant_type: 'authorization_code', code: q.get('code'), client_id: CFG.pkce,
      code_verifier: sessionStorage.getItem('pkce_verifier'), redirect_uri: redirectUri})});
    const j = await r.json();
    if (!r.ok) { out('status', 'token error ' + j.error); return; }
    token = j.access_token; state = q.get('state');
    out('expires', String(j.expires_in));
  } else if (h.get('access_token')) {
    token = h.get('access_token'); state = h.get('state');
    out('expires', h.get('expires_in'));
  } else { out('status', 'idle'); return; }
  const auth = {Authorization: 'Bearer ' + token};
  const me = await (await fetch(CFG.api + '/api/v2/users/me?expand=authorization', {headers: auth})).json();
  out('who', me.username);
  out('perms', me.authorization.permissions.join(' '));
  const put = await fetch(CFG.api + '/api/v2/flows/datatables/' + CFG.table + '/rows/config', {
    method: 'PUT', headers: {...auth, 'Content-Type': 'application/json'},
    body: JSON.stringify({key: 'config', Configuration: JSON.stringify({writtenBy: me.username})})});
  const body = await put.json();
  out('put', put.status + ' ' + (body.code || 'ok') + ' ' + (put.headers.get('ININ-Correlation-Id') ? 'corr' : 'nocorr'));
  out('status', 'done ' + state);
}
const mode = new URLSearchParams(location.search).get('start');
(mode ? start(mode) : finish()).catch((e) => out('status', 'exception ' + e));
"""


def app_html(sim: Simulator) -> str:
    cfg = {
        "login": sim.login_url,
        "api": sim.api_url,
        "pkce": sim.admin_app_client_id,
        "implicit": sim.admin_app_implicit_client_id,
        "table": sim.config_table_id,
    }
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>sign-in test app</title></head><body>"
        "<p id='status'>loading</p><p id='who'></p><p id='perms'></p><p id='put'></p><p id='expires'></p>"
        f"<script>const CFG = {json.dumps(cfg)};{APP_JS}</script></body></html>"
    )


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, str]]:
    root = tmp_path_factory.mktemp("app")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    app_url = f"http://127.0.0.1:{server.server_address[1]}/app.html"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with Simulator(seed=31, admin_app_redirect_uris=[app_url]) as sim:
            (Path(root) / "app.html").write_text(app_html(sim), encoding="utf-8")
            sim.set_config_document({"profiles": []})
            yield sim, app_url
    finally:
        server.shutdown()
        server.server_close()


def test_pkce_sign_in_in_chromium_then_cross_origin_api_calls(
    world: tuple[Simulator, str], page: Any
) -> None:
    sim, app_url = world
    page.goto(app_url + "?start=code")
    page.wait_for_url(f"{sim.login_url}/oauth/authorize?*")
    assert page.title() == "Genesys Cloud sign in"
    assert page.locator("#client-name").inner_text() == "callexport admin app"
    sign_in_on_login_page(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('done')")
    assert page.locator("#status").inner_text() == "done st-pkce"
    assert page.url == app_url + "?" + page.url.split("?", 1)[1] and "code=" in page.url
    assert page.locator("#who").inner_text() == ADMIN_USERNAME
    assert page.locator("#perms").inner_text() == "*:*:*"
    assert page.locator("#put").inner_text() == "200 ok corr"  # exposed header readable cross-origin
    assert json.loads(sim.datatable_rows()[0]["Configuration"]) == {"writtenBy": ADMIN_USERNAME}
    origin = app_url.rsplit("/", 1)[0]
    preflights = [r for r in sim.requests if r.method == "OPTIONS" and r.headers.get("Origin") == origin]
    assert any("rows/config" in r.path for r in preflights)  # the browser really preflighted the PUT


def test_implicit_grant_in_chromium_and_a_403_for_the_viewer(world: tuple[Simulator, str], page: Any) -> None:
    sim, app_url = world
    page.goto(app_url + "?start=token")
    page.wait_for_selector("#login-form")
    sign_in_on_login_page(page, VIEWER_USERNAME, "wrong")
    assert page.locator("#login-error").inner_text() == "Incorrect username or password."
    sign_in_on_login_page(page, VIEWER_USERNAME, VIEWER_PASSWORD)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('done')")
    assert page.locator("#status").inner_text() == "done st-implicit"
    assert page.locator("#who").inner_text() == VIEWER_USERNAME
    assert page.locator("#expires").inner_text() == "86400"
    assert page.locator("#put").inner_text() == "403 missing.permissions corr"


def test_cancel_on_the_login_page_returns_access_denied(world: tuple[Simulator, str], page: Any) -> None:
    sim, app_url = world
    page.goto(app_url + "?start=code")
    page.wait_for_selector("#login-form")
    page.click("#cancel")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('error')")
    assert page.locator("#status").inner_text() == "error access_denied"
