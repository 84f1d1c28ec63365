"""Screenshots of the admin app's main screens for docs/admin.md (not a test; run it by hand):

    python tests/make_admin_screenshots.py [docs/images]

Starts the simulator with the demo configuration, serves the app, signs in through the simulator's
login page in headless Chromium (1280x800) and saves one PNG per screen.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from browser_fixtures import CHROMIUM_ARGS, VIEWPORT, chromium_executable, sign_in_on_login_page  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from service.admin_cli import AdminServer, app_config  # noqa: E402
from service.demo import demo_document  # noqa: E402
from simulator.app import Simulator  # noqa: E402
from simulator.oauth_users import ADMIN_PASSWORD, ADMIN_USERNAME  # noqa: E402

HOST_PAGE = """<!doctype html><html><head><style>
body{margin:0;font-family:sans-serif;background:#e9edf1}
.gc{height:44px;background:#2b3640;color:#fff;display:flex;align-items:center;padding:0 16px;gap:18px;font-size:14px}
.side{position:absolute;top:44px;bottom:0;left:0;width:56px;background:#33414e}
iframe{position:absolute;top:44px;left:56px;width:calc(100% - 56px);height:calc(100% - 44px);border:0;background:#fff}
</style></head><body><div class="gc"><b>Genesys Cloud</b><span>Apps ▸ callexport admin</span></div>
<div class="side"></div><iframe src="APP" sandbox="allow-scripts allow-same-origin allow-forms allow-modals allow-popups allow-top-navigation"></iframe></body></html>"""


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    document = demo_document(Path("D:/callexport/demo-output"))
    with Simulator(seed=1, config_document=document) as sim:
        config = app_config(api_url=sim.api_url, login_url=sim.login_url, client_id=sim.admin_app_client_id)
        with AdminServer(config=config) as admin, sync_playwright() as pw:
            sim.add_redirect_uri(sim.admin_app_client_id, admin.url)
            browser = pw.chromium.launch(
                executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.goto(admin.url)
            sign_in_on_login_page(page, ADMIN_USERNAME, ADMIN_PASSWORD)
            page.wait_for_selector("#workspace:not([hidden])")
            page.locator('#profile-list li[data-index="1"]').click()
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "admin-editor.png"))

            page.locator("#groups [name=AudioFileTemplate]").fill("{Agent.Name|Nope}_{Conversation.Id}")
            page.locator("#groups [name=RetryCount]").fill("500")
            page.locator("#groups [name=AudioFileTemplate]").scroll_into_view_if_needed()
            page.wait_for_timeout(200)
            page.screenshot(path=str(out / "admin-errors.png"))
            page.evaluate("() => { window.callexportAdmin.state.dirty = false; }")  # drop these edits
            page.goto(admin.url)
            page.wait_for_selector("#workspace:not([hidden])")

            other = browser.new_context(viewport=VIEWPORT).new_page()
            other.goto(admin.url)
            sign_in_on_login_page(other, ADMIN_USERNAME, ADMIN_PASSWORD)
            other.wait_for_selector("#workspace:not([hidden])")
            other.locator("#groups [name=RetryCount]").fill("7")
            other.click("#save")
            other.wait_for_function("() => document.querySelector('#status').textContent.includes('Saved')")
            page.locator("#groups [name=RetryCount]").fill("9")
            page.click("#save")
            page.wait_for_selector("#conflict-dialog[open]")
            page.screenshot(path=str(out / "admin-conflict.png"))

            sim.set_config_document('{"Profiles": [{"Name": "Archive", "Queues": ["Sales"]},]}')
            page.evaluate("() => { window.callexportAdmin.state.dirty = false; }")
            page.goto(admin.url)
            page.wait_for_selector("#repair-view:not([hidden])")
            page.screenshot(path=str(out / "admin-repair.png"))

            sim.set_config_document(document)
            frame_url = (
                admin.url
                + "?gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.ie&gcTargetEnv=prod-euw1&gcLangTag=en-us"
            )
            framed = browser.new_context(viewport=VIEWPORT).new_page()
            # a stand-in for the Genesys Cloud page that frames the app (same tab, so the sign-in is shared)
            framed.route(
                admin.url + "genesys-host.html",
                lambda route: route.fulfill(
                    content_type="text/html", body=HOST_PAGE.replace("APP", frame_url)
                ),
            )
            framed.goto(admin.url)  # sign in once (the login page refuses to be framed, as Genesys' does)
            sign_in_on_login_page(framed, ADMIN_USERNAME, ADMIN_PASSWORD)
            framed.wait_for_selector("#workspace:not([hidden])")
            framed.goto(admin.url + "genesys-host.html")
            framed.frame_locator("iframe").locator("#workspace:not([hidden])").wait_for()
            framed.wait_for_timeout(300)
            framed.screenshot(path=str(out / "admin-in-genesys-frame.png"))
            browser.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images").resolve())
