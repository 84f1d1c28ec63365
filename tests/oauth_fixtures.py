"""Signing a person in to the simulator over real HTTP (no browser), as Genesys' SDKs do it.

    code, state = sign_in(sim, ADMIN_USERNAME, ADMIN_PASSWORD, client_id=..., redirect_uri=...,
                          challenge=challenge)
    token = pkce_token(sim, client_id, verifier, code, redirect_uri)   # the official SDK's call

The PKCE verifier and challenge come from the official Python SDK (`ApiClient.
generate_pkce_code_verifier` / `compute_pkce_code_challenge`), so the simulator's S256 check is
tested against Genesys' own implementation, not against itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from PureCloudPlatformClientV2 import ApiClient

from simulator.app import Simulator


def pkce_pair(length: int = 128) -> tuple[str, str]:
    """(code_verifier, code_challenge) made by the official SDK."""
    client = ApiClient()
    verifier = client.generate_pkce_code_verifier(length)
    return verifier, client.compute_pkce_code_challenge(verifier)


def authorize_params(
    client_id: str,
    redirect_uri: str,
    *,
    response_type: str = "code",
    state: str | None = "state-1",
    challenge: str | None = None,
) -> dict[str, str]:
    """The query `loginPKCEGrant` / `loginImplicitGrant` of the JS SDK send to `/oauth/authorize`."""
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": response_type}
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    if state is not None:
        params["state"] = state
    return params


def submit_login(
    sim: Simulator,
    params: dict[str, str],
    username: str,
    password: str,
    session: requests.Session | None = None,
) -> requests.Response:
    """Open the login page, then post the credentials as the form does; the 302 is not followed."""
    s = session or requests.Session()
    page = s.get(f"{sim.login_url}/oauth/authorize", params=params, timeout=10, allow_redirects=False)
    if page.status_code != 200:
        return page
    assert "id='login-form'" in page.text, page.text[:500]
    form = {**params, "username": username, "password": password, "action": "login"}
    return s.post(f"{sim.login_url}/oauth/authorize", data=form, timeout=10, allow_redirects=False)


def redirect_values(response: requests.Response) -> dict[str, str]:
    """The query (code flow) or fragment (implicit) values of a redirect to the app."""
    assert response.status_code == 302, f"{response.status_code} {response.text[:300]}"
    parts = urlsplit(response.headers["Location"])
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw).items()}


def sign_in(
    sim: Simulator,
    username: str,
    password: str,
    *,
    client_id: str,
    redirect_uri: str,
    challenge: str | None,
    state: str = "state-1",
) -> tuple[str, str]:
    """The authorization code (and state) a person's sign-in returns to `redirect_uri`."""
    values = redirect_values(
        submit_login(
            sim,
            authorize_params(client_id, redirect_uri, state=state, challenge=challenge),
            username,
            password,
        )
    )
    return values["code"], values.get("state", "")


def token_request(
    sim: Simulator, client_id: str, verifier: str | None, code: str, redirect_uri: str
) -> requests.Response:
    """The PKCE token request exactly as the SDKs send it (form, no client authentication)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(f"{sim.login_url}/oauth/token", data=form, timeout=10)


def pkce_token(sim: Simulator, client_id: str, verifier: str, code: str, redirect_uri: str) -> dict[str, Any]:
    """Exchange the code with the official SDK's `ApiClient.get_pkce_token`; the token response."""
    client = ApiClient(host=sim.api_url)
    _, data = client.get_pkce_token(client_id, verifier, code, redirect_uri)
    return dict(data)


def person_session(sim: Simulator, token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s
