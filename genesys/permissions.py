"""The Genesys Cloud permissions callexport needs: the one source of truth.

`SERVICE_NEEDS` lists, per feature, the endpoints the export service calls and the permissions they
require (from the official SDK documentation, `MyPureCloud/platform-client-sdk-python`
`build/docs/*Api.md`, "Requires ANY/ALL permissions"). From it come:

* `ROLE_PERMISSIONS`: what `python run.py setup` grants the service's role (and repairs when one is
  removed);
* the table "Permissions the OAuth client needs" in docs/genesys.md (`markdown_table()`; a test fails
  when the two differ);
* `SETUP_NEEDS` / `SETUP_PERMISSIONS`: what the administrator who runs `setup` needs.

A permission string is ``domain:entity:action`` as Genesys Cloud writes it; a role stores them as
permission policies (``DomainPermissionPolicy``: ``domain``, ``entityName``, ``actionSet``), built by
`permission_policies()`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    """One row of the permissions table."""

    feature: str
    endpoints: str  # markdown, as shown in the docs table
    permissions: str  # markdown, as shown in the docs table
    grant: tuple[str, ...] = ()  # granted to the role by `setup`


SERVICE_NEEDS: tuple[Need, ...] = (
    Need(
        "recordings (metadata, media)",
        "`GET /api/v2/conversations/{id}/recordingmetadata`, `…/recordings[/{rid}]`",
        "any of `recording:recording:view`, `recording:recordingSegment:view` (for full calls use "
        "`recording:recording:view`)",
        ("recording:recording:view",),
    ),
    Need(
        "sensitive recordings",
        "recordings with secure-pause/PCI data",
        "`recording:recording:viewSensitiveData` (*unverified* whether needed for conversation recordings; "
        "documented for batch downloads; not granted by `setup`)",
    ),
    Need(
        "retention policy check",
        "`GET /api/v2/recording/mediaretentionpolicies`",
        "`recording:retentionPolicy:view`",
        ("recording:retentionPolicy:view",),
    ),
    Need(
        "analytics details",
        "`GET /api/v2/analytics/conversations/{id}/details`, `POST …/details/query`",
        "`analytics:conversationDetail:view`",
        ("analytics:conversationDetail:view",),
    ),
    Need(
        "STA transcripts (every part)",
        "`GET /api/v2/speechandtextanalytics/conversations/{id}/communications/{cid}/transcripturls`",
        "any of `recording:recording:view`, `recording:recordingSegment:view` (SDK docs "
        "`SpeechTextAnalyticsApi.md`); `speechAndTextAnalytics:data:view` as the single-URL endpoint "
        "documents it (granted too, to be safe)",
        ("recording:recording:view", "speechAndTextAnalytics:data:view"),
    ),
    Need(
        "conversation",
        "`GET /api/v2/conversations/{id}`",
        "`conversation:communication:view`",
        ("conversation:communication:view",),
    ),
    Need(
        "participant attributes (status write-back)",
        "`PATCH /api/v2/conversations/calls/{id}/participants/{pid}/attributes`",
        "none listed in the SDK docs; *unverified* — real orgs may require "
        "`conversation:communication:update` or `conversation:participant:*` (not granted by `setup`; "
        "`credentials test` and the service's log show a 403)",
    ),
    Need(
        "custom attributes (status record)",
        "`GET/PUT/PATCH /api/v2/conversations/{id}/customattributes`",
        "`conversation:customAttributes:view`, `conversation:customAttributes:edit`",
        ("conversation:customAttributes:view", "conversation:customAttributes:edit"),
    ),
    Need(
        "custom attribute schema",
        "`GET/POST /api/v2/conversations/customattributes/schemas`",
        "`conversation:customAttributes:schemaView`; `conversation:customAttributes:schemaAdd` only for "
        "a service that creates the schema itself (`setup` creates it, so the role does not get it)",
        ("conversation:customAttributes:schemaView",),
    ),
    Need(
        "configuration data table",
        "`GET /api/v2/flows/datatables`, `GET/PUT/POST …/rows`",
        "`architect:datatable:view`, `architect:datatableRow:view`, `architect:datatableRow:edit`, "
        "`architect:datatableRow:add`",
        (
            "architect:datatable:view",
            "architect:datatableRow:view",
            "architect:datatableRow:edit",
            "architect:datatableRow:add",
        ),
    ),
    Need(
        "queues",
        "`GET /api/v2/routing/queues[/{id}]`",
        "`routing:queue:view`",
        ("routing:queue:view",),
    ),
    Need(
        "wrap-up code names",
        "`GET /api/v2/routing/wrapupcodes/{id}`",
        "`routing:wrapupCode:view`",
        ("routing:wrapupCode:view",),
    ),
    Need(
        "queue notification topics",
        "`v2.routing.queues.{id}.conversations[.calls]`",
        "`routing:queue:view` (*unverified*; the platform lists each topic's `requiresPermissions` at "
        "`GET /api/v2/notifications/availabletopics`)",
        ("routing:queue:view",),
    ),
    Need(
        "users (agent names)",
        "`GET /api/v2/users[/{id}]`",
        "none listed in the SDK docs; *unverified* — `directory:user:view` may be needed in practice "
        "(granted by `setup`)",
        ("directory:user:view",),
    ),
    Need(
        "notification channels",
        "`POST /api/v2/notifications/channels`, `HEAD …/{id}`, `PUT …/subscriptions`",
        "none (the topics carry their own)",
    ),
    Need(
        "configuration signal",
        "`POST /api/v2/conversations/callbacks` (admin tooling / tests)",
        "`conversation:callback:create` (for whoever sends it; not granted by `setup`)",
    ),
    Need(
        "configuration signal clean-up",
        "`PATCH /api/v2/conversations/callbacks/{conversationId}` (`state: disconnected`)",
        "`conversation:communication:disconnect` (SDK docs `ConversationsApi.md` "
        "patch_conversations_callback); without it the callback stays in the system queue and a WARNING "
        "says so",
        ("conversation:communication:disconnect",),
    ),
    Need(
        "custom attribute core types",
        "`GET /api/v2/conversations/customattributes/schemas/coretypes[/{name}]`",
        "`conversation:customAttributes:schemaView`",
        ("conversation:customAttributes:schemaView",),
    ),
    Need(
        "backfill and report (bulk reads)",
        "`POST/GET/DELETE /api/v2/analytics/conversations/details/jobs[/{id}[/results]]`, "
        "`POST/GET /api/v2/recording/batchrequests[/{id}]`",
        "`analytics:conversationDetail:view`; `recording:recording:view` (SDK docs `AnalyticsApi.md`, "
        "`RecordingApi.md`)",
        ("analytics:conversationDetail:view", "recording:recording:view"),
    ),
    Need(
        "trusted time, organisation",
        "`GET /api/v2/date`, `GET /api/v2/organizations/me`",
        "none",
    ),
)

# What the administrator running `python run.py setup` needs (the installer of Genesys' premium-app
# example lists the same for roles, OAuth clients, integrations and data tables:
# MyPureCloud/purecloud-premium-app wizard/config/config.js `installPermissions`).
SETUP_NEEDS: tuple[Need, ...] = (
    Need(
        "the service's role",
        "`GET/POST/PUT /api/v2/authorization/roles[/{id}]`, `PUT …/roles/{id}/users/add`",
        "`authorization:role:view`, `authorization:role:add`, `authorization:role:edit`, "
        "`authorization:grant:add`",
        (
            "authorization:role:view",
            "authorization:role:add",
            "authorization:role:edit",
            "authorization:grant:add",
        ),
    ),
    Need(
        "the OAuth client",
        "`GET/POST/PUT /api/v2/oauth/clients[/{id}]`, `POST …/{id}/secret`, "
        "`GET /api/v2/authorization/divisions/home`",
        "`oauth:client:view`, `oauth:client:add`, `oauth:client:edit`, `authorization:division:view`",
        ("oauth:client:view", "oauth:client:add", "oauth:client:edit", "authorization:division:view"),
    ),
    Need(
        "the configuration data table and row",
        "`GET/POST/PUT /api/v2/flows/datatables[/{id}]`, `GET/POST/PUT …/rows[/{key}]`",
        "`architect:datatable:view`, `architect:datatable:add`, `architect:datatable:edit`, "
        "`architect:datatableRow:view`, `architect:datatableRow:add`, `architect:datatableRow:edit`",
        (
            "architect:datatable:view",
            "architect:datatable:add",
            "architect:datatable:edit",
            "architect:datatableRow:view",
            "architect:datatableRow:add",
            "architect:datatableRow:edit",
        ),
    ),
    Need(
        "the custom attributes schema",
        "`GET/POST /api/v2/conversations/customattributes/schemas`",
        "`conversation:customAttributes:schemaView`, `conversation:customAttributes:schemaAdd`",
        ("conversation:customAttributes:schemaView", "conversation:customAttributes:schemaAdd"),
    ),
    Need(
        "the system queue",
        "`GET/POST/PUT /api/v2/routing/queues[/{id}]`, `GET/POST …/{id}/members`",
        "`routing:queue:view`, `routing:queue:add`, `routing:queue:edit`, `routing:queueMember:manage`",
        ("routing:queue:view", "routing:queue:add", "routing:queue:edit", "routing:queueMember:manage"),
    ),
    Need(
        "the admin app (Client App integration)",
        "`GET/POST/PATCH /api/v2/integrations[/{id}]`, `GET/PUT …/{id}/config/current`",
        "`integrations:integration:view`, `integrations:integration:add`, `integrations:integration:edit`",
        ("integrations:integration:view", "integrations:integration:add", "integrations:integration:edit"),
    ),
)


def _union(needs: Iterable[Need]) -> tuple[str, ...]:
    return tuple(sorted({p for need in needs for p in need.grant}))


ROLE_PERMISSIONS: tuple[str, ...] = _union(SERVICE_NEEDS)
SETUP_PERMISSIONS: tuple[str, ...] = _union(SETUP_NEEDS)


def split(permission: str) -> tuple[str, str, str]:
    """``"recording:recording:view"`` -> ``("recording", "recording", "view")``."""
    parts = permission.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not a domain:entity:action permission: {permission!r}")
    return parts[0], parts[1], parts[2]


def permission_policies(permissions: Iterable[str]) -> list[dict[str, object]]:
    """The ``permissionPolicies`` of a role granting exactly ``permissions`` (one policy per
    domain and entity, actions sorted)."""
    grouped: dict[tuple[str, str], set[str]] = {}
    for permission in permissions:
        domain, entity, action = split(permission)
        grouped.setdefault((domain, entity), set()).add(action)
    return [
        {"domain": domain, "entityName": entity, "actionSet": sorted(actions), "allowConditions": False}
        for (domain, entity), actions in sorted(grouped.items())
    ]


def granted_by(policies: Iterable[Mapping[str, Any]]) -> set[str]:
    """The permission strings a role's ``permissionPolicies`` grant (``*`` entries stay ``*``)."""
    granted: set[str] = set()
    for policy in policies:
        domain, entity = str(policy.get("domain", "")), str(policy.get("entityName", ""))
        for action in policy.get("actionSet") or []:
            granted.add(f"{domain}:{entity}:{action}")
    return granted


def covers(granted: set[str], permission: str) -> bool:
    """Whether ``granted`` includes ``permission``, directly or through a ``*`` wildcard."""
    domain, entity, action = split(permission)
    candidates = {
        permission,
        f"{domain}:{entity}:*",
        f"{domain}:*:*",
        f"{domain}:*:{action}",
        "*:*:*",
    }
    return bool(candidates & granted)


def markdown_table(needs: Iterable[Need] = SERVICE_NEEDS) -> str:
    """The docs table (header, separator and one line per need)."""
    lines = ["| feature | endpoint(s) | permission(s) |", "|---|---|---|"]
    lines += [f"| {n.feature} | {n.endpoints} | {n.permissions} |" for n in needs]
    return "\n".join(lines)
