"""Walks every route `python run.py setup` needs from the simulator (roles, OAuth clients, queues and
their members, integrations) through the fidelity checker of tests/test_sim_server_fidelity.py.

`check(method, path, model, status=200, **requests_kwargs)` calls the route, asserts the status and
that the body round-trips through the named SDK model, and marks the route as covered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genesys.permissions import ROLE_PERMISSIONS, permission_policies

Check = Callable[..., Any]


def walk_admin_routes(check: Check, sim: Any) -> None:
    # roles and divisions
    home = check("GET", "/api/v2/authorization/divisions/home", "AuthzDivision")
    role = check(
        "POST",
        "/api/v2/authorization/roles",
        "DomainOrganizationRole",
        json={
            "name": "Fidelity role",
            "description": "made by the fidelity test",
            "permissionPolicies": permission_policies(ROLE_PERMISSIONS),
        },
    )
    rpath = f"/api/v2/authorization/roles/{role['id']}"
    check("GET", "/api/v2/authorization/roles?name=Fidelity*", "OrganizationRoleEntityListing")
    check("GET", rpath, "DomainOrganizationRole")
    check(
        "PUT",
        rpath,
        "DomainOrganizationRole",
        json={"name": "Fidelity role", "permissionPolicies": permission_policies(["routing:queue:view"])},
    )
    check("PUT", rpath + "/users/add", "list[str]", json=[sim.org.users[0].id])
    check("GET", "/api/v2/authorization/subjects/me", "AuthzSubject")

    # OAuth clients
    client = check(
        "POST",
        "/api/v2/oauth/clients",
        "OAuthClient",
        json={
            "name": "Fidelity client",
            "authorizedGrantType": "CLIENT-CREDENTIALS",
            "roleDivisions": [{"roleId": role["id"], "divisionId": home["id"]}],
        },
    )
    assert client["secret"]
    cpath = f"/api/v2/oauth/clients/{client['id']}"
    check("GET", "/api/v2/oauth/clients", "OAuthClientEntityListing")
    assert "secret" not in check("GET", cpath, "OAuthClient")
    check(
        "PUT",
        cpath,
        "OAuthClient",
        json={
            "name": "Fidelity client",
            "authorizedGrantType": "CLIENT-CREDENTIALS",
            "roleIds": [role["id"]],
        },
    )
    assert check("POST", cpath + "/secret", "OAuthClient")["secret"] != client["secret"]
    check("DELETE", cpath, None, status=204)

    # queues and members
    queue = check(
        "POST",
        "/api/v2/routing/queues",
        "Queue",
        json={"name": "Fidelity queue", "description": "d", "enableTranscription": False},
    )
    qpath = f"/api/v2/routing/queues/{queue['id']}"
    check("PUT", qpath, "Queue", json={"name": "Fidelity queue", "enableTranscription": False})
    check("POST", qpath + "/members", None, status=204, json=[{"id": sim.org.users[0].id}])
    members = check("GET", qpath + "/members", "QueueMemberEntityListing")
    assert [m["id"] for m in members["entities"]] == [sim.org.users[0].id]
    check("DELETE", qpath, None, status=204)

    # integrations
    integration = check(
        "POST", "/api/v2/integrations", "Integration", json={"integrationType": {"id": "embedded-client-app"}}
    )
    ipath = f"/api/v2/integrations/{integration['id']}"
    config = check("GET", ipath + "/config/current", "IntegrationConfiguration")
    check(
        "PUT",
        ipath + "/config/current",
        "IntegrationConfiguration",
        json={
            "name": "Fidelity app",
            "version": config["version"],
            "notes": "",
            "properties": {"url": "https://example.com/app", "displayType": "standalone", "sandbox": ""},
            "advanced": {},
            "credentials": {},
        },
    )
    check("PATCH", ipath, "Integration", json={"intendedState": "ENABLED"})
    check("GET", "/api/v2/integrations", "IntegrationEntityListing")
    check("GET", ipath, "Integration")
    check("DELETE", ipath, "Integration")
    check("DELETE", rpath, None, status=204)
