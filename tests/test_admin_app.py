"""The admin web app in a real headless Chromium against the simulator (one browser for the module).

The app is served by `run.py admin serve`'s server (`AdminServer`) on its own loopback origin; it
signs people in through the simulator's login page (authorization code + PKCE), calls the Platform
API cross-origin with their token and stores the configuration in the simulator's Data Table. On
failure the page's screenshot, HTML and console are kept (tests/browser_fixtures.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser_fixture, page_fixture, sign_in_on_login_page  # noqa: F401
from service_harness import Harness

from service.admin_cli import AdminServer, app_config
from service.admin_data import GOLDEN_VECTORS
from simulator.app import Simulator
from simulator.oauth_users import ADMIN_PASSWORD, ADMIN_USERNAME, VIEWER_PASSWORD, VIEWER_USERNAME

pytestmark = pytest.mark.slow


def seeded_document(root: str = "D:\\Exports") -> dict[str, Any]:
    return {
        "ConfigReloadIntervalSeconds": 300,
        "Profiles": [
            {"Name": "Archive", "Queues": ["Sales"], "DestinationRoot": root},
            {"Name": "QA agent audio", "Queues": ["Support"], "DestinationRoot": root, "AudioFormat": "MP3"},
            {"Name": "Speech dataset", "Queues": ["Claims"], "DestinationRoot": root},
        ],
    }


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=17, config_document=seeded_document(), details_delay_s=0.1, event_speed=300.0) as sim:
        yield sim


@pytest.fixture(scope="module")
def admin(sim: Simulator) -> Iterator[AdminServer]:
    config = app_config(api_url=sim.api_url, login_url=sim.login_url, client_id=sim.admin_app_client_id)
    with AdminServer(config=config) as server:
        sim.add_redirect_uri(sim.admin_app_client_id, server.url)
        yield server


@pytest.fixture()
def fresh(sim: Simulator) -> Simulator:
    """The seeded configuration again, the default token lifetime and no stale drafts."""
    sim.set_config_document(seeded_document())
    sim.person_token_ttl_s = 86_400.0
    return sim


def open_app(
    page: Any, admin: AdminServer, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD
) -> None:
    page.goto(admin.url)
    sign_in_on_login_page(page, username, password)
    page.wait_for_selector("#workspace:not([hidden]), #fatal:not([hidden]), #repair-view:not([hidden])")


def stored(sim: Simulator) -> dict[str, Any]:
    return json.loads(sim.config_document())


def item(page: Any, index: int) -> Any:
    return page.locator(f'#profile-list li[data-index="{index}"]')


def names(page: Any) -> list[str]:
    return page.locator("#profile-list .profile-name").all_inner_texts()


def preview_paths(page: Any) -> list[str]:
    return page.locator("#preview-list .path").all_inner_texts()


def wait_status(page: Any, text: str) -> None:
    page.wait_for_function("t => document.querySelector('#status').textContent.includes(t)", arg=text)


def pick(page: Any, field: str, text: str, choice: str) -> None:
    box = page.locator(f'#groups input[name="{field}"]')
    box.fill(text)
    page.locator(f'#groups [data-key="{field}"] .suggestions li[data-value="{choice}"]').click()


# ------------------------------------------------------------------------------------------------


def test_golden_vectors_pass_in_the_browser(page: Any, admin: AdminServer) -> None:
    vectors = json.loads(GOLDEN_VECTORS.read_text(encoding="utf-8"))
    page.goto(admin.url + "data/engine.json")
    result = page.evaluate(
        """async (vectors) => {
            const base = location.origin + "/js/engine/";
            const { setEngineData } = await import(base + "data.js");
            const { runVectors } = await import(base + "golden.js");
            setEngineData(await (await fetch(location.origin + "/data/engine.json")).json());
            const { count, failures } = runVectors(vectors);
            return { count, failures: failures.slice(0, 5) };
        }""",
        vectors,
    )
    cases = sum(len(v) for k, v in vectors.items() if isinstance(v, list))
    assert result["count"] == cases and result["failures"] == []


def test_create_a_profile_filling_every_group_and_save_it_live(
    page: Any, admin: AdminServer, fresh: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = fresh
    caplog.set_level(logging.INFO, logger="actors.config")
    harness = Harness(sim, tmp_path).start()
    try:
        open_app(page, admin)
        assert names(page) == ["Archive", "QA agent audio", "Speech dataset"]
        version_before = harness.deps.config_holder["snapshot"].version

        page.click("#new-profile")
        form = page.locator("#groups")
        # every key of the schema has an input named after it, with a visible label
        keys = page.evaluate(
            "async () => Object.keys((await (await fetch('data/engine.json')).json()).schema.$defs.Profile.properties)"
        )
        for key in keys:
            control = form.locator(f'[name="{key}"]').first
            assert control.count() == 1, key
            wrapper = form.locator(f'[data-key="{key}"]')
            assert wrapper.locator("label, .label").first.inner_text().strip(), key

        # names are unique, checked as you type
        form.locator('[name="Name"]').fill("archive")
        assert "unique" in form.locator('.field-error[data-for="Name"]').inner_text()
        form.locator('[name="Name"]').fill("Live QA")
        assert form.locator('.field-error[data-for="Name"]').is_hidden()

        # scope: the queue picker searches the org's queues; the policy picker the retention policies
        pick(page, "Queues", "supp", "Support")
        pick(page, "Queues", "bill", "Billing")
        form.locator('[name="Queues"]').fill("no such queue")
        page.wait_for_selector('#groups [data-key="Queues"] .suggestions .none')
        form.locator('[name="Queues"]').fill("")
        policy = sim.org.policies[0].name
        pick(page, "RetentionPolicies", policy[:4], policy)
        form.locator('[name="RequireAgentParticipant"]').check()

        # audio
        form.locator('[name="AudioFormat"]').select_option("MP3")
        form.locator('[name="NormalizeLoudness"]').check()
        form.locator('[name="ReduceNoise"]').check()
        form.locator('[name="ParticipantPurposesToExport"][value="agent"]').check()
        form.locator('[name="CallSegmentsToExport"][value="interact"]').check()
        form.locator('[name="ConcatenateParticipantSegments"]').check()
        form.locator('[name="AudioMetadataAttributes"][value="Conversation.Id"]').check()
        form.locator('[name="AudioMetadataAttributes"][value="Acd.Name"]').check()

        # transcripts
        form.locator('[name="TranscriptExportEnabled"]').check()
        form.locator('[name="TranscriptFormat"]').select_option("SRT")
        form.locator('[name="TranscriptMetadataAttributes"][value="Transcript.Id"]').check()

        # destination: the preview follows the directory mode, interval and time zone
        out = tmp_path / "exports"
        form.locator('[name="DestinationRoot"]').fill(str(out))
        form.locator('[name="DirectoryStructureMode"]').select_option("Flat")
        form.locator('[name="Interval"]').fill("1h")
        form.locator('[name="TimeZoneOffset"]').fill("America/New_York")
        assert all(p.startswith(f"{out}/2026032410/") for p in preview_paths(page)), preview_paths(page)
        form.locator('[name="DirectoryStructureMode"]').select_option("PathTemplate")
        form.locator('[name="PathTemplate"]').fill("{Acd.Name|ToLower}/{Recording.StartTime|Format(yyyy)}")
        assert all(p.startswith(f"{out}/support/2026/") for p in preview_paths(page)), preview_paths(page)

        # names: the preview changes with the template, as you type
        template = form.locator('[name="AudioFileTemplate"]')
        template.fill(
            "{CustomerCall.Attribute.CRMTicketNumber}_{Recording.StartTime|Format(yyyyMMddHHmmss)}.{FileExtension}"
        )
        audio = [p for p in preview_paths(page) if p.endswith(".mp3")]
        assert audio and all(Path(p).name.startswith("TKT-98765_202603241") for p in audio), audio
        template.fill("{Agent.Name|ToUpper}.{FileExtension}")
        assert any(p.endswith("/LIAM O'CONNOR.mp3") for p in preview_paths(page)), preview_paths(page)
        template.fill("{Agent.Name|Nope}")
        assert (
            "unknown function 'Nope'"
            in form.locator('.field-error[data-for="AudioFileTemplate"]').inner_text()
        )
        template.fill("{Conversation.Id}_{Agent.Name}.{FileExtension}")
        form.locator('[name="TranscriptionFileTemplate"]').fill("{Conversation.Id}.{FileExtension}")
        assert any(p.endswith(".srt") for p in preview_paths(page))

        # reliability, and an invalid value that blocks saving with the message next to the field
        form.locator('[name="ConflictStrategy"]').select_option("Overwrite")
        form.locator('[name="ProcessingDelaySeconds"]').fill("0")
        form.locator('[name="RetryCount"]').fill("500")
        error = form.locator('.field-error[data-for="RetryCount"]')
        assert error.inner_text() == "500 is greater than the maximum of 100"
        page.click("#save")
        wait_status(page, "Not saved: fix 1 problem(s) first")
        assert stored(sim) == seeded_document()
        form.locator('[name="RetryCount"]').fill("5")
        assert error.is_hidden()

        # the global setting
        page.fill('[name="ConfigReloadIntervalSeconds"]', "5")
        assert (
            "minimum of 10"
            in page.locator('.field-error[data-for="ConfigReloadIntervalSeconds"]').inner_text()
        )
        page.fill('[name="ConfigReloadIntervalSeconds"]', "600")

        started = time.monotonic()
        page.click("#save")
        wait_status(page, "Saved: the service was notified")
        expected = seeded_document()
        expected["ConfigReloadIntervalSeconds"] = 600
        expected["Profiles"].append(
            {
                "Name": "Live QA",
                "Active": True,
                "Queues": ["Support", "Billing"],
                "DestinationRoot": str(out),
                "RetentionPolicies": [policy],
                "RequireAgentParticipant": True,
                "AudioFormat": "MP3",
                "NormalizeLoudness": True,
                "ReduceNoise": True,
                "ParticipantPurposesToExport": ["agent"],
                "CallSegmentsToExport": ["interact"],
                "ConcatenateParticipantSegments": True,
                "AudioMetadataAttributes": ["Conversation.Id", "Acd.Name"],
                "TranscriptExportEnabled": True,
                "TranscriptFormat": "SRT",
                "TranscriptMetadataAttributes": ["Transcript.Id"],
                "DirectoryStructureMode": "PathTemplate",
                "Interval": "1h",
                "TimeZoneOffset": "America/New_York",
                "PathTemplate": "{Acd.Name|ToLower}/{Recording.StartTime|Format(yyyy)}",
                "AudioFileTemplate": "{Conversation.Id}_{Agent.Name}.{FileExtension}",
                "TranscriptionFileTemplate": "{Conversation.Id}.{FileExtension}",
                "ConflictStrategy": "Overwrite",
                "ProcessingDelaySeconds": 0,
                "RetryCount": 5,
            }
        )
        assert stored(sim) == expected
        assert harness.wait(lambda: harness.deps.config_holder["snapshot"].version > version_before, 5.0)
        took = time.monotonic() - started
        assert harness.wait(lambda: "Live QA" in caplog.text and "Configuration version" in caplog.text, 2.0)
        assert took < 5.0
        snapshot = harness.deps.config_holder["snapshot"]
        assert [p.name for p in snapshot.config.profiles][-1] == "Live QA"
    finally:
        harness.stop()


def test_reorder_by_drag_and_keyboard_duplicate_rename_disable(
    page: Any, admin: AdminServer, fresh: Simulator
) -> None:
    open_app(page, admin)
    # drag "Speech dataset" above "Archive"
    item(page, 2).locator(".drag-handle").drag_to(item(page, 0), target_position={"x": 20, "y": 4})
    assert names(page) == ["Speech dataset", "Archive", "QA agent audio"]
    # keyboard: focus Archive's handle, move it down once
    item(page, 1).locator(".drag-handle").focus()
    page.keyboard.press("ArrowDown")
    assert names(page) == ["Speech dataset", "QA agent audio", "Archive"]
    assert page.evaluate("() => document.activeElement.closest('li').dataset.index") == "2"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert names(page) == ["Archive", "Speech dataset", "QA agent audio"]

    # duplicate, then rename the copy
    item(page, 2).click()
    page.click("#duplicate-profile")
    assert names(page) == ["Archive", "Speech dataset", "QA agent audio", "QA agent audio (copy)"]
    page.locator('#groups [name="Name"]').fill("QA agent audio (Oslo)")
    page.locator('#groups [name="TimeZoneOffset"]').fill("Europe/Oslo")
    # disable in one click from the list
    item(page, 0).locator(".toggle-active").click()
    assert item(page, 0).locator(".badge").inner_text() == "Off"
    # delete asks first; cancelling keeps the profile
    item(page, 1).click()
    page.click("#delete-profile")
    page.click("#confirm-dialog .confirm-no")
    assert len(names(page)) == 4
    page.click("#save")
    wait_status(page, "Saved")
    doc = stored(fresh)
    assert [p["Name"] for p in doc["Profiles"]] == [
        "Archive",
        "Speech dataset",
        "QA agent audio",
        "QA agent audio (Oslo)",
    ]
    assert doc["Profiles"][0]["Active"] is False
    assert doc["Profiles"][3] == {
        **doc["Profiles"][2],
        "Name": "QA agent audio (Oslo)",
        "TimeZoneOffset": "Europe/Oslo",
    }
    # delete, confirmed
    item(page, 1).click()
    page.click("#delete-profile")
    page.click("#confirm-dialog .confirm-yes")
    page.click("#save")
    wait_status(page, "Saved")
    assert [p["Name"] for p in stored(fresh)["Profiles"]] == [
        "Archive",
        "QA agent audio",
        "QA agent audio (Oslo)",
    ]


def test_two_tabs_editing_at_once_get_the_conflict_view(
    browser: Any, admin: AdminServer, fresh: Simulator
) -> None:
    first = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    second = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        open_app(first, admin)
        open_app(second, admin)
        first.locator('#groups [name="DestinationRoot"]').fill("E:\\First")
        second.locator('#groups [name="DestinationRoot"]').fill("F:\\Second")
        first.click("#save")
        wait_status(first, "Saved")
        second.click("#save")
        second.wait_for_selector("#conflict-dialog[open]")
        table = second.locator("#conflict-view table").inner_text()
        assert "DestinationRoot" in table and "E:\\\\First" in table and "F:\\\\Second" in table
        assert stored(fresh)["Profiles"][0]["DestinationRoot"] == "E:\\First"  # no silent overwrite
        second.click("#conflict-theirs")
        assert second.locator('#groups [name="DestinationRoot"]').input_value() == "E:\\First"
        second.locator('#groups [name="RetryCount"]').fill("7")
        second.click("#save")
        wait_status(second, "Saved")
        doc = stored(fresh)["Profiles"][0]
        assert doc["DestinationRoot"] == "E:\\First" and doc["RetryCount"] == 7
    finally:
        first.context.close()
        second.context.close()


def test_a_broken_stored_document_opens_in_the_repair_view(
    page: Any, admin: AdminServer, fresh: Simulator
) -> None:
    broken = '{"Profiles": [{"Name": "Kept", "Queues": ["Sales"]},]}'
    fresh.set_config_document(broken)
    open_app(page, admin)
    assert page.locator("#repair-view").is_visible()
    assert "not valid JSON" in page.locator("#repair-errors").inner_text()
    assert page.locator("#repair-text").input_value() == broken  # nothing discarded
    page.fill("#repair-text", '{"Profiles": [{"Name": "Kept", "Queues": ["Sales"]}], "Extra": 1}')
    page.click("#repair-open")
    assert "Extra" in page.locator("#repair-errors").inner_text()
    page.click("#repair-empty")
    page.click("#confirm-dialog .confirm-no")  # asks before discarding; cancelled
    assert page.locator("#repair-view").is_visible()
    page.fill("#repair-text", '{"Profiles": [{"Name": "Kept", "Queues": ["Sales"]}]}')
    page.click("#repair-open")
    assert names(page) == ["Kept"]
    page.click("#save")
    wait_status(page, "Saved")
    assert stored(fresh) == {"Profiles": [{"Name": "Kept", "Queues": ["Sales"]}]}


def test_an_expired_session_signs_in_again_without_losing_edits(
    page: Any, admin: AdminServer, fresh: Simulator
) -> None:
    fresh.person_token_ttl_s = 6.0
    open_app(page, admin)
    page.locator('#groups [name="DestinationRoot"]').fill("G:\\Kept edit")
    page.wait_for_timeout(6500)
    page.click("#save")
    page.wait_for_selector("#sign-in-again")
    assert "unsaved changes are kept" in page.locator("#banner").inner_text()
    fresh.person_token_ttl_s = 86_400.0
    page.click("#sign-in-again")
    if page.locator("#login-form").count():
        sign_in_on_login_page(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    page.wait_for_selector("#workspace:not([hidden])")
    wait_status(page, "restored")
    assert page.locator('#groups [name="DestinationRoot"]').input_value() == "G:\\Kept edit"
    page.click("#save")
    wait_status(page, "Saved")
    assert stored(fresh)["Profiles"][0]["DestinationRoot"] == "G:\\Kept edit"


def test_permissions_and_empty_states(browser: Any, admin: AdminServer, fresh: Simulator) -> None:
    viewer = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    agent = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        open_app(viewer, admin, VIEWER_USERNAME, VIEWER_PASSWORD)
        assert "Read-only" in viewer.locator("#banner").inner_text()
        assert viewer.locator("#save").is_disabled()
        assert viewer.locator('#groups [name="DestinationRoot"]').is_disabled()
        open_app(agent, admin, "agent@example.com", "agent-password")
        assert agent.locator("#fatal").is_visible()
        assert "architect:datatableRow:view" in agent.locator("#fatal-text").inner_text()
    finally:
        viewer.context.close()
        agent.context.close()


HOST_PAGE = """<!doctype html><html><body style="margin:0"><div style="height:40px;background:#2b3640"></div>
<iframe id="gc-app" src="APP" style="border:0;width:100%;height:760px"
 sandbox="allow-scripts allow-same-origin allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox"></iframe>
</body></html>"""


def test_inside_the_genesys_frame_it_signs_in_through_a_popup(
    page: Any, admin: AdminServer, fresh: Simulator
) -> None:
    app_url = (
        admin.url + "?gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.ie&gcTargetEnv=prod-euw1&gcLangTag=en-us"
    )
    page.route(
        admin.url + "genesys-host.html",
        lambda route: route.fulfill(content_type="text/html", body=HOST_PAGE.replace("APP", app_url)),
    )
    page.goto(admin.url + "genesys-host.html")
    frame = page.frame_locator("#gc-app")
    frame.locator("#signed-out:not([hidden])").wait_for()
    with page.expect_popup() as popup_info:
        frame.locator("#sign-in").click()
    popup = popup_info.value
    sign_in_on_login_page(popup, ADMIN_USERNAME, ADMIN_PASSWORD)
    popup.wait_for_event("close")
    frame.locator("#workspace:not([hidden])").wait_for()
    assert frame.locator("#profile-list .profile-name").all_inner_texts() == [
        "Archive",
        "QA agent audio",
        "Speech dataset",
    ]
    assert page.locator("#gc-app").evaluate("f => f.contentDocument.documentElement.lang") == "en"
