"""People signing in to the simulator over real HTTP: authorization code + PKCE, implicit grant,
the token endpoint's grants and errors, login sessions, CORS, permissions (403) and expiry (401)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from oauth_fixtures import (
    authorize_params,
    person_session,
    pkce_pair,
    pkce_token,
    redirect_values,
    sign_in,
    submit_login,
    token_request,
)
from PureCloudPlatformClientV2 import ApiClient, TokensApi, UsersApi
from sim_fidelity import assert_sdk_roundtrip

from simulator.app import Simulator
from simulator.oauth_users import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    AGENT_PASSWORD,
    AGENT_USERNAME,
    VIEWER_USERNAME,
)
from simulator.permissions import ROUTE_PERMISSIONS, grants, missing

APP = "http://127.0.0.1:47001/app/callback"
APP_ORIGIN = "http://127.0.0.1:47001"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=21, admin_app_redirect_uris=[APP]) as s:
        yield s


@pytest.fixture(autouse=True)
def _defaults(sim: Simulator) -> Iterator[None]:
    yield
    sim.person_token_ttl_s = 86_400.0
    sim.auth_codes.ttl_s = 120.0
    sim.login_sessions.clear()


def admin_pkce_token(sim: Simulator) -> str:
    verifier, challenge = pkce_pair()
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    return str(pkce_token(sim, sim.admin_app_client_id, verifier, code, APP)["access_token"])


def test_pkce_flow_end_to_end_with_the_official_sdk(sim: Simulator) -> None:
    verifier, challenge = pkce_pair()
    code, state = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
        state="after-login:/profiles",
    )
    assert state == "after-login:/profiles"
    data = pkce_token(sim, sim.admin_app_client_id, verifier, code, APP)  # ApiClient.get_pkce_token
    assert set(data) == {"access_token", "token_type", "expires_in"} and data["token_type"] == "bearer"
    assert data["expires_in"] == 86_400
    token_req = [r for r in sim.requests if r.path == "/oauth/token"][-1]
    assert "Authorization" not in token_req.headers  # a public client: no secret travels

    # the token is the person's: the SDK's UsersApi.get_users_me and TokensApi.get_tokens_me
    client = ApiClient(host=sim.api_url)
    client.access_token = data["access_token"]
    me = UsersApi(client).get_users_me(expand=["authorization"])
    assert me.username == ADMIN_USERNAME and me.id == sim.admin.id
    assert me.authorization.permissions == ["*:*:*"]
    assert [r.name for r in me.authorization.roles] == ["Master Admin"]
    info = TokensApi(client).get_tokens_me()
    assert info.o_auth_client.id == sim.admin_app_client_id and info.organization.id == sim.org.id

    # the raw documents round-trip through the SDK models
    s = person_session(sim, data["access_token"])
    for expand in ("", "authorization", "authorization,authorization.unusedRoles,date"):
        doc = s.get(f"{sim.api_url}/api/v2/users/me", params={"expand": expand} if expand else {}, timeout=10)
        assert doc.status_code == 200
        assert_sdk_roundtrip(doc.json(), "UserMe")
        assert ("authorization" in doc.json()) == bool(expand)
    assert_sdk_roundtrip(s.get(f"{sim.api_url}/api/v2/tokens/me", timeout=10).json(), "TokenInfo")
    # people are users of the org
    user = s.get(f"{sim.api_url}/api/v2/users/{sim.admin.id}", timeout=10).json()
    assert user["username"] == ADMIN_USERNAME
    assert_sdk_roundtrip(user, "User")


def test_wrong_verifier_is_invalid_grant_and_burns_the_code(sim: Simulator) -> None:
    verifier, challenge = pkce_pair()
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    other, _ = pkce_pair()
    bad = token_request(sim, sim.admin_app_client_id, other, code, APP)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert "code_verifier" in bad.json()["error_description"]
    again = token_request(sim, sim.admin_app_client_id, verifier, code, APP)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # a PKCE code without any verifier is refused too
    code2, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    missing_verifier = token_request(sim, sim.admin_app_client_id, None, code2, APP)
    assert missing_verifier.status_code == 400 and missing_verifier.json()["error"] == "invalid_grant"


def test_codes_are_single_use_and_a_replay_revokes_the_token(sim: Simulator) -> None:
    verifier, challenge = pkce_pair()
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    first = token_request(sim, sim.admin_app_client_id, verifier, code, APP)
    assert first.status_code == 200
    token = first.json()["access_token"]
    me = person_session(sim, token).get(f"{sim.api_url}/api/v2/users/me", timeout=10)
    assert me.status_code == 200
    replay = token_request(sim, sim.admin_app_client_id, verifier, code, APP)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    after = person_session(sim, token).get(f"{sim.api_url}/api/v2/users/me", timeout=10)
    assert after.status_code == 401
    assert_sdk_roundtrip(after.json(), "ErrorBody")


def test_codes_are_short_lived(sim: Simulator) -> None:
    sim.auth_codes.ttl_s = 0.3
    verifier, challenge = pkce_pair()
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    time.sleep(0.6)
    late = token_request(sim, sim.admin_app_client_id, verifier, code, APP)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert "expired" in late.json()["error_description"]


def test_redirect_uri_must_match_exactly(sim: Simulator) -> None:
    _, challenge = pkce_pair()
    for wrong in (
        "http://127.0.0.1:47002/app/callback",  # another loopback port: no wildcard
        APP + "/",
        APP.replace("127.0.0.1", "localhost"),
        "https://evil.example/app/callback",
    ):
        page = requests.get(
            f"{sim.login_url}/oauth/authorize",
            params=authorize_params(sim.admin_app_client_id, wrong, challenge=challenge),
            timeout=10,
            allow_redirects=False,
        )
        assert page.status_code == 400, wrong  # an error page, never a redirect to an unregistered URI
        assert "Location" not in page.headers and "data-error='invalid_request'" in page.text
    unknown = requests.get(
        f"{sim.login_url}/oauth/authorize",
        params=authorize_params("no-such-client", APP, challenge=challenge),
        timeout=10,
        allow_redirects=False,
    )
    assert unknown.status_code == 400 and "invalid_client" in unknown.text
    # the token request must repeat the authorize request's redirect_uri
    verifier, challenge = pkce_pair()
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    other = token_request(sim, sim.admin_app_client_id, verifier, code, APP + "?x=1")
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    # and a redirect URI registered later works at once
    later = "http://127.0.0.1:47003/"
    sim.add_redirect_uri(sim.admin_app_client_id, later)
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=later,
        challenge=challenge,
    )
    assert token_request(sim, sim.admin_app_client_id, verifier, code, later).status_code == 200


def test_implicit_grant_returns_the_token_in_the_fragment(sim: Simulator) -> None:
    params = authorize_params(sim.admin_app_implicit_client_id, APP, response_type="token", state="s/1 2")
    resp = submit_login(sim, params, VIEWER_USERNAME, "viewer-password")
    location = resp.headers["Location"]
    assert location.startswith(APP + "#") and "?" not in location
    values = redirect_values(resp)
    assert set(values) == {"access_token", "expires_in", "token_type", "state"}
    assert values["token_type"] == "bearer" and values["state"] == "s/1 2" and values["expires_in"] == "86400"
    me = person_session(sim, values["access_token"]).get(f"{sim.api_url}/api/v2/users/me", timeout=10)
    assert me.status_code == 200 and me.json()["username"] == VIEWER_USERNAME
    # the code client may not use the implicit grant: the error travels in the fragment
    refused = requests.get(
        f"{sim.login_url}/oauth/authorize",
        params=authorize_params(sim.admin_app_client_id, APP, response_type="token"),
        timeout=10,
        allow_redirects=False,
    )
    assert refused.status_code == 302 and "#" in refused.headers["Location"]
    assert redirect_values(refused)["error"] == "unauthorized_client"


def test_authorize_errors_are_redirected_with_state(sim: Simulator) -> None:
    def go(**overrides: str) -> dict[str, str]:
        params = {**authorize_params(sim.admin_app_client_id, APP, state="keep-me"), **overrides}
        r = requests.get(f"{sim.login_url}/oauth/authorize", params=params, timeout=10, allow_redirects=False)
        assert r.headers["Location"].startswith(APP + "?")
        return redirect_values(r)

    assert go(response_type="id_token")["error"] == "unsupported_response_type"
    plain = go(code_challenge="a" * 43, code_challenge_method="plain")
    assert plain["error"] == "invalid_request" and plain["state"] == "keep-me"
    assert go(code_challenge="short", code_challenge_method="S256")["error"] == "invalid_request"
    # the person cancels on the login page
    params = authorize_params(sim.admin_app_client_id, APP, state="keep-me")
    cancel = requests.post(
        f"{sim.login_url}/oauth/authorize",
        data={**params, "action": "cancel"},
        timeout=10,
        allow_redirects=False,
    )
    assert redirect_values(cancel) == {
        "error": "access_denied",
        "error_description": "The user cancelled the sign-in",
        "state": "keep-me",
    }


def test_wrong_password_shows_the_form_again(sim: Simulator) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(sim.admin_app_client_id, APP, challenge=challenge)
    resp = submit_login(sim, params, ADMIN_USERNAME, "not-the-password")
    assert resp.status_code == 200 and "Incorrect username or password." in resp.text
    assert "Location" not in resp.headers and challenge in resp.text  # the request survives the retry


def test_login_session_skips_the_form_until_logout_or_prompt_login(sim: Simulator) -> None:
    verifier, challenge = pkce_pair()
    browser = requests.Session()
    params = authorize_params(sim.admin_app_client_id, APP, challenge=challenge)
    redirect_values(submit_login(sim, params, AGENT_USERNAME, AGENT_PASSWORD, session=browser))
    again = browser.get(f"{sim.login_url}/oauth/authorize", params=params, timeout=10, allow_redirects=False)
    code = redirect_values(again)["code"]  # signed in already: straight back to the app
    token = token_request(sim, sim.admin_app_client_id, verifier, code, APP).json()["access_token"]
    me = person_session(sim, token).get(f"{sim.api_url}/api/v2/users/me", timeout=10).json()
    assert me["username"] == AGENT_USERNAME
    forced = browser.get(
        f"{sim.login_url}/oauth/authorize",
        params={**params, "prompt": "login"},
        timeout=10,
        allow_redirects=False,
    )
    assert forced.status_code == 200 and "id='login-form'" in forced.text
    out = browser.get(
        f"{sim.login_url}/logout",
        params={"client_id": sim.admin_app_client_id, "redirect_uri": APP},
        timeout=10,
        allow_redirects=False,
    )
    assert out.status_code == 302 and out.headers["Location"] == APP
    after = browser.get(f"{sim.login_url}/oauth/authorize", params=params, timeout=10, allow_redirects=False)
    assert after.status_code == 200 and "id='login-form'" in after.text


def test_cors_preflight_and_headers_on_the_api_and_the_token_endpoint(sim: Simulator) -> None:
    token = admin_pkce_token(sim)
    path = f"/api/v2/flows/datatables/{sim.config_table_id}/rows/config"
    pre = requests.options(
        sim.api_url + path,
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "PUT" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert "Origin" in pre.headers["Vary"]
    actual = requests.get(
        sim.api_url + "/api/v2/routing/queues",
        headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert actual.status_code == 200 and actual.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "ININ-Correlation-Id" in actual.headers["Access-Control-Expose-Headers"]
    # errors carry the headers too, so the app can read them
    denied = requests.get(sim.api_url + "/api/v2/routing/queues", headers={"Origin": APP_ORIGIN}, timeout=10)
    assert denied.status_code == 401 and denied.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    tok = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "authorization_code", "code": "x", "client_id": sim.admin_app_client_id},
        headers={"Origin": APP_ORIGIN},
        timeout=10,
    )
    assert tok.status_code == 400 and tok.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Access-Control-Allow-Origin" not in requests.get(sim.api_url + "/api/v2/date", timeout=10).headers


def test_cors_can_be_restricted_to_some_origins() -> None:
    with Simulator(seed=22, cors_origins=[APP_ORIGIN]) as sim:
        other = "http://127.0.0.1:1"
        pre = requests.options(
            sim.api_url + "/api/v2/users/me",
            headers={"Origin": other, "Access-Control-Request-Method": "GET"},
            timeout=10,
        )
        assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers
        ok = requests.options(
            sim.api_url + "/api/v2/users/me",
            headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "GET"},
            timeout=10,
        )
        assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


# (method, path builder, body) of what the admin app calls; the viewer may read but not write
ADMIN_APP_CALLS: list[tuple[str, str, Any, bool]] = [
    ("GET", "/api/v2/routing/queues", None, True),
    ("GET", "/api/v2/recording/mediaretentionpolicies", None, True),
    ("GET", "/api/v2/flows/datatables/{table}/rows?showbrief=false", None, True),
    ("GET", "/api/v2/flows/datatables/{table}/rows/config", None, True),
    ("PUT", "/api/v2/flows/datatables/{table}/rows/config", {"key": "config", "Configuration": "{}"}, False),
    (
        "POST",
        "/api/v2/conversations/callbacks",
        {"queueId": "{system}", "callbackNumbers": ["+15550100"]},
        False,
    ),
    ("POST", "/api/v2/analytics/conversations/details/query", {"interval": "{interval}"}, True),
]


def _call(sim: Simulator, token: str, method: str, path: str, body: Any) -> requests.Response:
    now = time.gmtime()
    interval = (
        time.strftime("%Y-%m-%dT00:00:00.000Z", now) + "/" + time.strftime("%Y-%m-%dT23:59:59.000Z", now)
    )
    subst = {"{table}": sim.config_table_id, "{system}": sim.org.system_queue.id, "{interval}": interval}
    for k, v in subst.items():
        path = path.replace(k, v)
    if isinstance(body, dict):
        body = {k: (subst.get(v, v) if isinstance(v, str) else v) for k, v in body.items()}
    return person_session(sim, token).request(method, sim.api_url + path, json=body, timeout=30)


def test_people_without_the_documented_permission_get_403(sim: Simulator) -> None:
    sim.set_config_document({"profiles": []})
    viewer = sim.issue_person_token(VIEWER_USERNAME)
    agent = sim.issue_person_token(AGENT_USERNAME)
    admin = admin_pkce_token(sim)
    for method, path, body, viewer_may in ADMIN_APP_CALLS:
        r = _call(sim, admin, method, path, body)
        assert r.status_code == 200, f"admin {method} {path}: {r.status_code} {r.text[:300]}"
        r = _call(sim, viewer, method, path, body)
        if viewer_may:
            assert r.status_code == 200, f"viewer {method} {path}: {r.status_code} {r.text[:300]}"
        else:
            assert r.status_code == 403, f"viewer {method} {path}: {r.status_code}"
            assert r.json()["code"] == "missing.permissions"
            assert_sdk_roundtrip(r.json(), "ErrorBody")
        r = _call(sim, agent, method, path, body)
        assert r.status_code == 403, f"agent {method} {path}: {r.status_code}"
    # the message names what is missing (any one of the alternatives would do)
    r = _call(sim, agent, "PUT", "/api/v2/flows/datatables/{table}/rows/config", {"key": "config"})
    assert (
        "architect:datatable:edit" in r.json()["message"]
        and "architect:datatableRow:edit" in r.json()["message"]
    )
    # no permission is needed for the person's own record or the org
    assert person_session(sim, agent).get(f"{sim.api_url}/api/v2/users/me", timeout=10).status_code == 200
    # taking a permission away applies to the tokens already issued
    sim.people.set_permissions(VIEWER_USERNAME, ["architect:datatable:view"])
    try:
        assert _call(sim, viewer, "GET", "/api/v2/routing/queues", None).status_code == 403
        assert (
            _call(sim, viewer, "GET", "/api/v2/flows/datatables/{table}/rows/config", None).status_code == 200
        )
    finally:
        from simulator.oauth_users import VIEWER_PERMISSIONS

        sim.people.set_permissions(VIEWER_USERNAME, VIEWER_PERMISSIONS)
    # the service's client-credentials token keeps every permission
    svc = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    ).json()["access_token"]
    for method, path, body, _ in ADMIN_APP_CALLS:
        assert _call(sim, svc, method, path, body).status_code == 200


def test_a_client_credentials_client_can_be_limited_to_some_permissions(sim: Simulator) -> None:
    client = sim.register_oauth_client(
        "limited service", "CLIENT-CREDENTIALS", permissions=["routing:queue:view"], token_ttl_s=600
    )
    tok = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.id, client.secret),
        timeout=10,
    ).json()
    assert tok["expires_in"] == 600
    assert _call(sim, tok["access_token"], "GET", "/api/v2/routing/queues", None).status_code == 200
    assert (
        _call(sim, tok["access_token"], "GET", "/api/v2/recording/mediaretentionpolicies", None).status_code
        == 403
    )
    # users/me means nothing for a client-credentials token
    me = person_session(sim, tok["access_token"]).get(f"{sim.api_url}/api/v2/users/me", timeout=10)
    assert me.status_code == 400
    assert_sdk_roundtrip(me.json(), "ErrorBody")


def test_expired_person_token_is_401(sim: Simulator) -> None:
    sim.person_token_ttl_s = 1.0
    verifier, challenge = pkce_pair()
    code, _ = sign_in(
        sim,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        client_id=sim.admin_app_client_id,
        redirect_uri=APP,
        challenge=challenge,
    )
    data = token_request(sim, sim.admin_app_client_id, verifier, code, APP).json()
    assert data["expires_in"] == 1
    s = person_session(sim, data["access_token"])
    assert s.get(f"{sim.api_url}/api/v2/users/me", timeout=10).status_code == 200
    time.sleep(1.3)
    expired = s.get(f"{sim.api_url}/api/v2/users/me", timeout=10)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    assert_sdk_roundtrip(expired.json(), "ErrorBody")


def test_confidential_code_grant_and_refresh_with_the_official_sdk(sim: Simulator) -> None:
    web = sim.register_oauth_client("server-side web app", "CODE", [APP], secret="web-secret")
    code, _ = sign_in(sim, ADMIN_USERNAME, ADMIN_PASSWORD, client_id=web.id, redirect_uri=APP, challenge=None)
    client = ApiClient(host=sim.api_url)
    _, data = client.get_code_authorization_token(web.id, "web-secret", code, APP)
    assert data["refresh_token"] and UsersApi(client).get_users_me().username == ADMIN_USERNAME
    _, refreshed = client.refresh_code_authorization_token(web.id, "web-secret", data["refresh_token"])
    assert refreshed["access_token"] != data["access_token"]
    assert UsersApi(client).get_users_me().id == sim.admin.id
    # without PKCE a code needs the client's secret
    code, _ = sign_in(sim, ADMIN_USERNAME, ADMIN_PASSWORD, client_id=web.id, redirect_uri=APP, challenge=None)
    public = token_request(sim, web.id, None, code, APP)
    assert public.status_code == 401 and public.json()["error"] == "invalid_client"
    # a code client cannot use the client-credentials grant
    cc = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(web.id, "web-secret"),
        timeout=10,
    )
    assert cc.status_code == 400 and cc.json()["error"] == "unauthorized_client"


def test_register_oauth_client_validates_its_input(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="grant type"):
        sim.register_oauth_client("x", "PASSWORD")
    with pytest.raises(ValueError, match="fragment"):
        sim.register_oauth_client("x", "CODE", ["http://127.0.0.1:1/#frag"])
    with pytest.raises(ValueError, match="absolute"):
        sim.register_oauth_client("x", "TOKEN", ["/relative"])
    with pytest.raises(ValueError, match="exists already"):
        sim.add_person(ADMIN_USERNAME.upper(), "pw")


def test_every_api_route_has_a_permission_row(sim: Simulator) -> None:
    api_routes = {(m, t) for m, t in sim.router.templates() if t.startswith("/api/v2")}
    assert api_routes - set(ROUTE_PERMISSIONS) == set(), "add rows to simulator/permissions.py"
    assert set(ROUTE_PERMISSIONS) - api_routes == set(), "rows for routes the simulator does not serve"


def test_permission_wildcards() -> None:
    assert grants("*:*:*", "routing:queue:view") and grants("routing:*:*", "routing:queue:view")
    assert not grants("routing:queue:edit", "routing:queue:view") and not grants(
        "routing:*:*", "architect:x:y"
    )
    need = ROUTE_PERMISSIONS[
        (
            "GET",
            "/api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/transcripturl",
        )
    ]
    assert need.mode == "ALL"
    assert missing(need, ["recording:recording:view"]) == ("speechAndTextAnalytics:data:view",)
    assert missing(need, ["recording:*:*", "speechAndTextAnalytics:*:view"]) == ()
