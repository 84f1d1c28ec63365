"""`run.py setup --non-interactive` against the simulator: every object provisioned and checked through
the official SDK, a rerun changes nothing, a rerun after damage repairs exactly that, `--dry-run`
changes nothing, and bad input (collision, missing rights, unreachable region) stops only its step."""

from __future__ import annotations

import json
import socket
from typing import Any

import PureCloudPlatformClientV2 as sdk
from setup_fixtures import APP_URL, changed, run_setup

from export.writeback import SCHEMA_TITLE
from genesys.credentials import CredentialStore
from genesys.permissions import ROLE_PERMISSIONS, permission_policies
from provisioning.client_app import PLACEHOLDERS
from provisioning.plan import MARKER
from simulator.app import Simulator


def official_sdk(sim: Simulator) -> sdk.ApiClient:
    """The official SDK signed in as the simulator's admin client (no code of ours in between)."""
    client = sdk.ApiClient(host=sim.api_url)
    return client.get_client_credentials_token(sim.client_id, sim.client_secret)


def sdk_state(sim: Simulator) -> dict[str, Any]:
    api = official_sdk(sim)
    roles = sdk.AuthorizationApi(api).get_authorization_roles(name="callexport service").entities
    clients = [c for c in sdk.OAuthApi(api).get_oauth_clients().entities if c.name == "callexport service"]
    tables = (
        sdk.ArchitectApi(api).get_flows_datatables(name="CallExport Configuration", expand="schema").entities
    )
    queues = sdk.RoutingApi(api).get_routing_queues(name="CallExport System").entities
    apps = [i for i in sdk.IntegrationsApi(api).get_integrations().entities if i.name == "callexport admin"]
    schemas = sdk.ConversationsApi(api).get_conversations_customattributes_schemas().entities
    state: dict[str, Any] = {
        "roles": roles,
        "clients": clients,
        "tables": tables,
        "queues": queues,
        "apps": apps,
    }
    state["schemas"] = [s for s in schemas if s.json_schema and s.json_schema.title == SCHEMA_TITLE]
    if queues:
        state["members"] = sdk.RoutingApi(api).get_routing_queue_members(queues[0].id).entities
    if tables:
        state["row"] = sdk.ArchitectApi(api).get_flows_datatable_row(tables[0].id, "config", showbrief=False)
    if apps:
        state["app_config"] = sdk.IntegrationsApi(api).get_integration_config_current(apps[0].id)
    state["home"] = sdk.AuthorizationApi(api).get_authorization_divisions_home()
    return state


def assert_provisioned(sim: Simulator, workdir: Any) -> None:
    state = sdk_state(sim)
    (role,) = state["roles"]
    assert sorted(role.permissions) == sorted(ROLE_PERMISSIONS) and MARKER in role.description
    (client,) = state["clients"]
    assert client.authorized_grant_type == "CLIENT-CREDENTIALS" and client.state == "active"
    assert [(rd.role_id, rd.division_id) for rd in client.role_divisions] == [(role.id, state["home"].id)]
    (table,) = state["tables"]
    assert table.schema.properties["Configuration"]["type"] == "string"
    document = json.loads(state["row"]["Configuration"])
    assert document["Profiles"][0]["Name"] == "Archive"
    assert len(state["schemas"]) == 1
    (queue,) = state["queues"]
    assert queue.enable_transcription is False and state["members"] == [] and MARKER in queue.description
    (app,) = state["apps"]
    assert app.intended_state == "ENABLED" and app.integration_type.id == "embedded-client-app"
    assert state["app_config"].properties["url"] == APP_URL + "?" + PLACEHOLDERS
    # the stored credentials are the new client's, and they work
    creds = CredentialStore(workdir / "callexport.toml").load()
    assert creds.client_id == client.id and "keyring" in creds.source
    sdk.ApiClient(host=sim.api_url).get_client_credentials_token(creds.client_id, creds.client_secret)


def test_setup_provisions_everything_and_a_second_run_changes_nothing(
    bare_sim, file_keyring, tmp_path, capsys, monkeypatch
):
    sim = bare_sim
    first = run_setup(sim, tmp_path, capsys, monkeypatch)
    assert first.code == 0, first.out + first.err
    assert_provisioned(sim, tmp_path)
    secret = CredentialStore(tmp_path / "callexport.toml").load().client_secret
    assert secret not in first.out + first.err  # never printed
    assert "all export permissions present" in first.out or "has every export permission" in first.out
    settings = (tmp_path / "callexport.toml").read_text()
    assert f'api_url = "{sim.api_url}"' in settings and secret not in settings

    second = run_setup(sim, tmp_path, capsys, monkeypatch)
    assert second.code == 0, second.out
    assert "Nothing to change" in second.out
    assert second.changes == [], changed(second)
    assert_provisioned(sim, tmp_path)


def test_a_rerun_repairs_exactly_what_was_deleted_or_altered(
    bare_sim, file_keyring, tmp_path, capsys, monkeypatch
):
    sim = bare_sim
    assert run_setup(sim, tmp_path, capsys, monkeypatch).code == 0
    role = sim.authz.find("callexport service")
    assert role is not None
    # damage: a permission removed from the role, the row deleted, an agent added to the system queue
    fewer = [p for p in ROLE_PERMISSIONS if p != "recording:recording:view"]
    sim.authz.update(
        role.id,
        {
            "name": role.name,
            "description": role.description,
            "permissionPolicies": permission_policies(fewer),
        },
    )
    table = next(t for t in sim.datatables.all() if t.name == "CallExport Configuration")
    sim.datatables.delete_row(table.id, "config")
    queue = sim.org.queue_by_name("CallExport System")
    sim.queue_admin.change_members(queue.id, [sim.org.users[0].id], remove=False)

    repair = run_setup(sim, tmp_path, capsys, monkeypatch)
    assert repair.code == 0, repair.out
    assert "add permission recording:recording:view" in repair.out
    assert changed(repair) == sorted(
        [
            f"PUT /api/v2/authorization/roles/{role.id}",
            f"POST /api/v2/flows/datatables/{table.id}/rows",
            f"POST /api/v2/routing/queues/{queue.id}/members",
        ]
    )
    assert_provisioned(sim, tmp_path)
    assert run_setup(sim, tmp_path, capsys, monkeypatch).changes == []


def test_an_existing_configuration_document_is_kept(bare_sim, file_keyring, tmp_path, capsys, monkeypatch):
    sim = bare_sim
    assert run_setup(sim, tmp_path, capsys, monkeypatch).code == 0
    table = next(t for t in sim.datatables.all() if t.name == "CallExport Configuration")
    mine = json.dumps({"Profiles": [{"Name": "Mine", "DestinationRoot": "/x", "Queues": ["Sales"]}]})
    sim.datatables.set_row(table.id, {"key": "config", "Configuration": mine})
    rerun = run_setup(
        sim, tmp_path, capsys, monkeypatch, "--export-root", "/elsewhere", "--export-queues", "Support"
    )
    assert rerun.code == 0 and rerun.changes == []
    assert sim.datatables.row(table.id, "config")["Configuration"] == mine
    assert "row 'config' kept (1 active profile(s)" in rerun.out


def test_a_lost_secret_is_replaced_and_stored(bare_sim, file_keyring, tmp_path, capsys, monkeypatch):
    sim = bare_sim
    assert run_setup(sim, tmp_path, capsys, monkeypatch).code == 0
    store = CredentialStore(tmp_path / "callexport.toml")
    old = store.load()
    store.delete()
    repair = run_setup(sim, tmp_path, capsys, monkeypatch)
    assert repair.code == 0, repair.out
    assert changed(repair) == [f"POST /api/v2/oauth/clients/{old.client_id}/secret"]
    new = store.load()
    assert new.client_id == old.client_id and new.client_secret != old.client_secret
    assert new.client_secret not in repair.out


def test_dry_run_changes_nothing(bare_sim, file_keyring, tmp_path, capsys, monkeypatch):
    sim = bare_sim
    dry = run_setup(sim, tmp_path, capsys, monkeypatch, "--dry-run")
    assert dry.code == 0, dry.out
    assert dry.changes == [] and "Dry run: nothing was changed" in dry.out
    assert "CREATE: create the role 'callexport service'" in dry.out
    assert not (tmp_path / "callexport.toml").exists()
    assert sim.authz.all() == [] and sim.oauth_clients.all() == [] and sim.datatables.all() == []
    assert sim.org.system_queue is None and sim.integrations.all() == []


def test_a_name_collision_stops_only_that_step_and_adopt_takes_it_over(
    bare_sim, file_keyring, tmp_path, capsys, monkeypatch
):
    sim = bare_sim
    theirs = sim.queue_admin.create(
        {"name": "CallExport System", "description": "made by hand", "enableTranscription": True}
    )
    first = run_setup(sim, tmp_path, capsys, monkeypatch)
    assert first.code == 1
    assert "[COLLISION] System queue 'CallExport System'" in first.out
    assert "--system-queue NAME" in first.out and "--adopt queue" in first.out
    assert sim.org.queue_by_id(theirs.id).enable_transcription is True  # not touched
    assert sim.authz.find("callexport service") is not None  # the other steps are done
    adopted = run_setup(sim, tmp_path, capsys, monkeypatch, "--adopt", "queue")
    assert adopted.code == 0, adopted.out
    assert changed(adopted) == [f"PUT /api/v2/routing/queues/{theirs.id}"]
    assert sim.org.queue_by_id(theirs.id).enable_transcription is False


def test_an_admin_without_the_right_to_create_a_role(bare_sim, file_keyring, tmp_path, capsys, monkeypatch):
    sim = bare_sim
    from genesys.permissions import SETUP_PERMISSIONS

    limited = sim.register_oauth_client(
        "limited admin",
        "CLIENT-CREDENTIALS",
        permissions=[p for p in SETUP_PERMISSIONS if p != "authorization:role:add"],
    )
    monkeypatch.setenv("CALLEXPORT_ADMIN_CLIENT_SECRET", limited.secret)
    result = run_setup(
        sim,
        tmp_path,
        capsys,
        monkeypatch,
        "--admin-client-id",
        limited.id,
        admin=False,
        secret=limited.secret,
    )
    assert result.code == 1
    assert "[FAILED]    Role 'callexport service'" in result.out
    assert "authorization:role:add" in result.out  # says which permissions to get
    assert "[skipped]   OAuth client 'callexport service': skipped: needs role" in result.out
    assert "[created]   System queue 'CallExport System'" in result.out  # independent steps are done
    assert "missing the following permission(s): authorization:role:add" in result.out  # Genesys' 403
    fixed = run_setup(sim, tmp_path, capsys, monkeypatch)
    assert fixed.code == 0, fixed.out
    assert_provisioned(sim, tmp_path)


def test_an_unreachable_or_unknown_region(file_keyring, tmp_path, capsys, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CALLEXPORT_ADMIN_CLIENT_SECRET", "x")
    import run

    argv = ["setup", "--non-interactive", "--admin-client-id", "admin", "--region"]
    assert run.main([*argv, f"http://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert "does not answer" in err and "--region" in err
    assert run.main([*argv, "mypurecloud.example"]) == 2
    assert "mypurecloud.ie" in capsys.readouterr().err  # lists the region names
    assert not (tmp_path / "callexport.toml").exists()


def test_setup_file_and_secret_rules(bare_sim, file_keyring, tmp_path, capsys, monkeypatch):
    sim = bare_sim
    setup_file = tmp_path / "setup.toml"
    setup_file.write_text(
        f'region = "{sim.api_url}"\nadmin_client_id = "{sim.client_id}"\nrole_name = "cx role"\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CALLEXPORT_ADMIN_CLIENT_SECRET", sim.client_secret)
    import run

    assert (
        run.main(["setup", "--non-interactive", "--setup-file", str(setup_file), "--app-url", APP_URL]) == 0
    )
    assert sim.authz.find("cx role") is not None
    capsys.readouterr()
    setup_file.write_text('admin_client_secret = "nope"\n')
    assert run.main(["setup", "--non-interactive", "--setup-file", str(setup_file)]) == 2
    assert "secrets do not belong in a file" in capsys.readouterr().err
