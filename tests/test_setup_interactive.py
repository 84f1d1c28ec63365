"""`run.py setup` as an administrator runs it: in a pseudo-terminal, answering the prompts, signing in
through the browser (authorization code + PKCE, loopback redirect) with Playwright driving headless
Chromium on the simulator's login page; then the plan, the confirmation and every step's result."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect
import pytest
from browser_fixtures import browser_fixture, page_fixture, sign_in_on_login_page  # noqa: F401
from service_process import python_env

from genesys.credentials import CredentialStore
from simulator.app import SETUP_REDIRECT_URI, Simulator
from simulator.oauth_users import ADMIN_PASSWORD, ADMIN_USERNAME

ROOT = Path(__file__).resolve().parent.parent
APP_URL = "https://admin.example.com/callexport/"


@pytest.fixture
def sim() -> Simulator:
    with Simulator(seed=41, provisioned=False) as simulator:
        yield simulator


def spawn_setup(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = python_env(
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        BROWSER="true",  # webbrowser.open runs `true URL`: the test's own Chromium opens the address
    )
    child = pexpect.spawn(
        sys.executable,
        [str(ROOT / "run.py"), "setup", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 250),
    )
    child.logfile_read = (tmp_path / "terminal.log").open("w", encoding="utf-8")
    return child


def answer(child: pexpect.spawn, prompt: str, text: str = "") -> None:
    child.expect_exact(prompt)
    child.sendline(text)


def test_interactive_setup_with_the_browser_sign_in(
    sim: Simulator, page, tmp_path: Path, file_keyring
) -> None:  # noqa: F811
    out = tmp_path / "out"
    child = spawn_setup(tmp_path)
    try:
        answer(child, "Region [mypurecloud.com]: ", sim.api_url)
        for prompt in (
            "Role for the service",
            "OAuth client for the service",
            "Configuration Data Table",
            "Its row",
            "Its column",
            "System queue",
            "Admin app (Client App) name",
        ):
            answer(child, prompt)  # Enter: the default
        answer(child, "Admin app URL", APP_URL)
        answer(child, "Its destination folder", str(out))
        answer(child, "Queues it exports", "Sales, Support")
        answer(child, "License file from the vendor")
        answer(child, "Install and start the service on this machine? [y/N]")
        answer(child, "Sign in with the browser (b) or an admin OAuth client's credentials (c)? [b]: ")
        answer(child, "OAuth client id for the browser sign-in", sim.setup_client_id)
        child.expect(r"(http://\S+/oauth/authorize\?\S+)")
        url = child.match.group(1)
        assert "code_challenge_method=S256" in url and "redirect_uri=" in url

        page.goto(url)
        sign_in_on_login_page(page, ADMIN_USERNAME, ADMIN_PASSWORD)
        page.wait_for_url(re.compile(re.escape(SETUP_REDIRECT_URI) + ".*"))
        assert "Signed in" in page.content()

        child.expect_exact("Signed in to")
        child.expect_exact("Plan:")
        child.expect_exact("CREATE: grant you the new role")
        answer(child, "Apply these changes? [Y/n]")
        child.expect_exact("Summary:")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    terminal = (tmp_path / "terminal.log").read_text()
    assert child.exitstatus == 0, terminal[-3000:]
    assert "[created]   Role 'callexport service' granted to you" in terminal
    assert "[created]   OAuth client 'callexport service'" in terminal
    assert "has every export permission" in terminal
    creds = CredentialStore(tmp_path / "callexport.toml").load()  # the same file keyring
    assert creds.client_secret not in terminal  # never shown
    admin = sim.people.by_username(ADMIN_USERNAME)
    role = sim.authz.find("callexport service")
    assert role is not None and admin is not None and admin.id in role.user_ids
    table = next(t for t in sim.datatables.all() if t.name == "CallExport Configuration")
    assert '"Sales"' in sim.datatables.row(table.id, "config")["Configuration"]


def test_a_person_without_the_right_to_create_a_role_gets_genesys_403(sim: Simulator, page, tmp_path) -> None:  # noqa: F811
    from genesys.permissions import SETUP_PERMISSIONS

    limited = [p for p in SETUP_PERMISSIONS if p != "authorization:role:add"]
    sim.add_person("operator@example.com", "operator-password", limited)
    child = spawn_setup(
        tmp_path,
        "--non-interactive",
        "--region",
        sim.api_url,
        "--app-url",
        APP_URL,
        "--browser-client-id",
        sim.setup_client_id,
    )
    try:
        child.expect(r"(http://\S+/oauth/authorize\?\S+)")
        page.goto(child.match.group(1))
        sign_in_on_login_page(page, "operator@example.com", "operator-password")
        child.expect_exact("Summary:")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    terminal = (tmp_path / "terminal.log").read_text()
    assert child.exitstatus == 1, terminal[-3000:]
    assert "[FAILED]    Role 'callexport service'" in terminal
    assert "missing the following permission(s): authorization:role:add" in terminal
    assert "Give them a role with authorization:role:view, authorization:role:add" in terminal
    assert "[created]   System queue 'CallExport System'" in terminal  # the other steps are done
    assert "[skipped]   OAuth client" in terminal
