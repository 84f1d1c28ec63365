"""Which permission each simulated endpoint needs, as the SDK documents it (one row per route).

Every row comes from the official Python SDK's API documentation (MyPureCloud/platform-client-sdk-python,
`build/docs/<Api>.md`, release 257.1.0: the "Requires ANY/ALL permissions" line of the operation named in
the row). A token of a *person* (authorization code / PKCE / implicit grant) must hold the permission(s)
of the row, otherwise the simulator answers 403 `missing.permissions` with Genesys' `ErrorBody`.
Client-credentials tokens hold their OAuth client's permissions (the default service client: all).

Adding a route to the simulator? Add its row here (tests/test_sim_oauth.py fails for an `/api/v2` route
without one). Permission strings are `domain:entity:action`; a granted `*` segment matches anything
(`*:*:*` is the default admin).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

EVERYTHING = "*:*:*"


@dataclass(frozen=True)
class Need:
    """`mode` ANY (one of `permissions`), ALL (every one) or NONE; `operation` is the SDK method."""

    mode: str
    permissions: tuple[str, ...]
    operation: str


ROUTE_PERMISSIONS: dict[tuple[str, str], Need] = {
    ("GET", "/api/v2/notifications/availabletopics"): Need(
        "NONE", (), "NotificationsApi.get_notifications_availabletopics"
    ),
    ("POST", "/api/v2/notifications/channels"): Need(
        "NONE", (), "NotificationsApi.post_notifications_channels"
    ),
    ("GET", "/api/v2/notifications/channels"): Need(
        "NONE", (), "NotificationsApi.get_notifications_channels"
    ),
    ("HEAD", "/api/v2/notifications/channels/{channelId}"): Need(
        "NONE", (), "NotificationsApi.head_notifications_channel"
    ),
    ("GET", "/api/v2/notifications/channels/{channelId}/subscriptions"): Need(
        "NONE", (), "NotificationsApi.get_notifications_channel_subscriptions"
    ),
    ("PUT", "/api/v2/notifications/channels/{channelId}/subscriptions"): Need(
        "NONE", (), "NotificationsApi.put_notifications_channel_subscriptions"
    ),
    ("POST", "/api/v2/notifications/channels/{channelId}/subscriptions"): Need(
        "NONE", (), "NotificationsApi.post_notifications_channel_subscriptions"
    ),
    ("DELETE", "/api/v2/notifications/channels/{channelId}/subscriptions"): Need(
        "NONE", (), "NotificationsApi.delete_notifications_channel_subscriptions"
    ),
    ("GET", "/api/v2/routing/wrapupcodes"): Need(
        "ALL", ("routing:wrapupCode:view",), "RoutingApi.get_routing_wrapupcodes"
    ),
    ("GET", "/api/v2/routing/wrapupcodes/{codeId}"): Need(
        "ALL", ("routing:wrapupCode:view",), "RoutingApi.get_routing_wrapupcode"
    ),
    ("GET", "/api/v2/routing/queues"): Need("ANY", ("routing:queue:view",), "RoutingApi.get_routing_queues"),
    ("GET", "/api/v2/routing/queues/{queueId}"): Need(
        "ALL", ("routing:queue:view",), "RoutingApi.get_routing_queue"
    ),
    ("GET", "/api/v2/users"): Need("NONE", (), "UsersApi.get_users"),
    ("GET", "/api/v2/users/{userId}"): Need("NONE", (), "UsersApi.get_user"),
    ("GET", "/api/v2/recording/mediaretentionpolicies"): Need(
        "ANY", ("recording:retentionPolicy:view",), "RecordingApi.get_recording_mediaretentionpolicies"
    ),
    ("GET", "/api/v2/recording/mediaretentionpolicies/{policyId}"): Need(
        "ANY", ("recording:retentionPolicy:view",), "RecordingApi.get_recording_mediaretentionpolicy"
    ),
    ("GET", "/api/v2/flows/datatables"): Need(
        "ANY", ("architect:datatable:view",), "ArchitectApi.get_flows_datatables"
    ),
    ("POST", "/api/v2/flows/datatables"): Need(
        "ANY", ("architect:datatable:add",), "ArchitectApi.post_flows_datatables"
    ),
    ("GET", "/api/v2/flows/datatables/{datatableId}"): Need(
        "ANY", ("architect:datatable:view",), "ArchitectApi.get_flows_datatable"
    ),
    ("PUT", "/api/v2/flows/datatables/{datatableId}"): Need(
        "ANY", ("architect:datatable:edit",), "ArchitectApi.put_flows_datatable"
    ),
    ("DELETE", "/api/v2/flows/datatables/{datatableId}"): Need(
        "ANY", ("architect:datatable:delete",), "ArchitectApi.delete_flows_datatable"
    ),
    ("GET", "/api/v2/flows/datatables/{datatableId}/rows"): Need(
        "ANY",
        ("architect:datatable:view", "architect:datatableRow:view"),
        "ArchitectApi.get_flows_datatable_rows",
    ),
    ("POST", "/api/v2/flows/datatables/{datatableId}/rows"): Need(
        "ANY",
        ("architect:datatable:add", "architect:datatableRow:add"),
        "ArchitectApi.post_flows_datatable_rows",
    ),
    ("GET", "/api/v2/flows/datatables/{datatableId}/rows/{rowId}"): Need(
        "ANY",
        ("architect:datatable:view", "architect:datatableRow:view"),
        "ArchitectApi.get_flows_datatable_row",
    ),
    ("PUT", "/api/v2/flows/datatables/{datatableId}/rows/{rowId}"): Need(
        "ANY",
        ("architect:datatable:edit", "architect:datatableRow:edit"),
        "ArchitectApi.put_flows_datatable_row",
    ),
    ("DELETE", "/api/v2/flows/datatables/{datatableId}/rows/{rowId}"): Need(
        "ANY",
        ("architect:datatable:delete", "architect:datatableRow:delete"),
        "ArchitectApi.delete_flows_datatable_row",
    ),
    ("GET", "/api/v2/date"): Need("NONE", (), "UtilitiesApi.get_date"),
    ("GET", "/api/v2/organizations/me"): Need("NONE", (), "OrganizationApi.get_organizations_me"),
    ("PATCH", "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/attributes"): Need(
        "NONE", (), "ConversationsApi.patch_conversations_call_participant_attributes"
    ),
    ("POST", "/api/v2/conversations/callbacks"): Need(
        "ALL", ("conversation:callback:create",), "ConversationsApi.post_conversations_callbacks"
    ),
    ("PATCH", "/api/v2/conversations/callbacks/{conversationId}"): Need(
        "ALL", ("conversation:communication:disconnect",), "ConversationsApi.patch_conversations_callback"
    ),
    ("GET", "/api/v2/conversations/customattributes/schemas/coretypes"): Need(
        "ALL",
        ("conversation:customAttributes:schemaView",),
        "ConversationsApi.get_conversations_customattributes_schemas_coretypes",
    ),
    ("GET", "/api/v2/conversations/customattributes/schemas/coretypes/{coreTypeName}"): Need(
        "ALL",
        ("conversation:customAttributes:schemaView",),
        "ConversationsApi.get_conversations_customattributes_schemas_coretype",
    ),
    ("GET", "/api/v2/conversations/customattributes/schemas"): Need(
        "ANY",
        ("conversation:customAttributes:schemaView",),
        "ConversationsApi.get_conversations_customattributes_schemas",
    ),
    ("POST", "/api/v2/conversations/customattributes/schemas"): Need(
        "ANY",
        ("conversation:customAttributes:schemaAdd",),
        "ConversationsApi.post_conversations_customattributes_schemas",
    ),
    ("GET", "/api/v2/conversations/customattributes/schemas/limits"): Need(
        "ANY",
        ("conversation:customAttributes:schemaView",),
        "ConversationsApi.get_conversations_customattributes_schemas_limits",
    ),
    ("GET", "/api/v2/conversations/customattributes/schemas/{schemaId}"): Need(
        "ANY",
        ("conversation:customAttributes:schemaView",),
        "ConversationsApi.get_conversations_customattributes_schema",
    ),
    ("PUT", "/api/v2/conversations/{conversationId}/customattributes"): Need(
        "ANY", ("conversation:customAttributes:edit",), "ConversationsApi.put_conversation_customattributes"
    ),
    ("PATCH", "/api/v2/conversations/{conversationId}/customattributes"): Need(
        "ANY", ("conversation:customAttributes:edit",), "ConversationsApi.patch_conversation_customattributes"
    ),
    ("GET", "/api/v2/conversations/{conversationId}/customattributes"): Need(
        "ANY", ("conversation:customAttributes:view",), "ConversationsApi.get_conversation_customattributes"
    ),
    ("GET", "/api/v2/conversations/{conversationId}/customattributes/{attributesId}"): Need(
        "ANY", ("conversation:customAttributes:view",), "ConversationsApi.get_conversation_customattribute"
    ),
    ("DELETE", "/api/v2/conversations/{conversationId}/customattributes/{attributesId}"): Need(
        "ANY",
        ("conversation:customAttributes:delete",),
        "ConversationsApi.delete_conversation_customattribute",
    ),
    ("GET", "/api/v2/analytics/conversations/details"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "ConversationsApi.get_analytics_conversations_details",
    ),
    ("POST", "/api/v2/analytics/conversations/details/query"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "ConversationsApi.post_analytics_conversations_details_query",
    ),
    ("GET", "/api/v2/analytics/conversations/{conversationId}/details"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "ConversationsApi.get_analytics_conversation_details",
    ),
    ("GET", "/api/v2/conversations/{conversationId}/recordingmetadata"): Need(
        "ANY",
        (
            "recording:recording:view",
            "recording:recordingSegment:view",
            "recording:snippetRecording:view",
            "recording:screenRecording:view",
        ),
        "RecordingApi.get_conversation_recordingmetadata",
    ),
    ("GET", "/api/v2/conversations/{conversationId}/recordingmetadata/{recordingId}"): Need(
        "ANY",
        (
            "recording:recording:view",
            "recording:recordingSegment:view",
            "recording:snippetRecording:view",
            "recording:screenRecording:view",
        ),
        "RecordingApi.get_conversation_recordingmetadata_recording_id",
    ),
    ("GET", "/api/v2/conversations/{conversationId}/recordings"): Need(
        "ANY",
        (
            "recording:recording:view",
            "recording:recordingSegment:view",
            "recording:snippetRecording:view",
            "recording:screenRecording:view",
        ),
        "RecordingApi.get_conversation_recordings",
    ),
    ("GET", "/api/v2/conversations/{conversationId}/recordings/{recordingId}"): Need(
        "ANY",
        (
            "recording:recording:view",
            "recording:recordingSegment:view",
            "recording:snippetRecording:view",
            "recording:screenRecording:view",
        ),
        "RecordingApi.get_conversation_recording",
    ),
    ("PATCH", "/api/v2/conversations/{conversationId}/participants/{participantId}/attributes"): Need(
        "NONE", (), "ConversationsApi.patch_conversation_participant_attributes"
    ),
    ("GET", "/api/v2/conversations/{conversationId}"): Need(
        "ANY", ("conversation:communication:view",), "ConversationsApi.get_conversation"
    ),
    (
        "GET",
        "/api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/transcripturl",
    ): Need(
        "ALL",
        ("recording:recording:view", "speechAndTextAnalytics:data:view"),
        "SpeechTextAnalyticsApi.get_speechandtextanalytics_conversation_communication_transcripturl",
    ),
    (
        "GET",
        "/api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/transcripturls",
    ): Need(
        "ANY",
        ("recording:recording:view", "recording:recordingSegment:view"),
        "SpeechTextAnalyticsApi.get_speechandtextanalytics_conversation_communication_transcripturls",
    ),
    ("POST", "/api/v2/recording/batchrequests"): Need(
        "ANY",
        (
            "recording:recording:view",
            "recording:recordingSegment:view",
            "recording:snippetRecording:view",
            "recording:screenRecording:view",
        ),
        "RecordingApi.post_recording_batchrequests",
    ),
    ("GET", "/api/v2/recording/batchrequests/{jobId}"): Need(
        "NONE", (), "RecordingApi.get_recording_batchrequest"
    ),
    ("POST", "/api/v2/analytics/conversations/details/jobs"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "AnalyticsApi.post_analytics_conversations_details_jobs",
    ),
    ("GET", "/api/v2/analytics/conversations/details/jobs/availability"): Need(
        "ANY",
        ("analytics:conversationDetail:view",),
        "AnalyticsApi.get_analytics_conversations_details_jobs_availability",
    ),
    ("GET", "/api/v2/analytics/conversations/details/jobs/{jobId}"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "AnalyticsApi.get_analytics_conversations_details_job",
    ),
    ("DELETE", "/api/v2/analytics/conversations/details/jobs/{jobId}"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "AnalyticsApi.delete_analytics_conversations_details_job",
    ),
    ("GET", "/api/v2/analytics/conversations/details/jobs/{jobId}/results"): Need(
        "ANY",
        ("analytics:conversationDetail:view", "analytics:agentConversationDetail:view"),
        "AnalyticsApi.get_analytics_conversations_details_job_results",
    ),
    ("GET", "/api/v2/users/me"): Need("NONE", (), "UsersApi.get_users_me"),
    ("GET", "/api/v2/tokens/me"): Need("NONE", (), "TokensApi.get_tokens_me"),
    # -- provisioning (`run.py setup`): roles, OAuth clients, queues, integrations -------------------
    ("GET", "/api/v2/authorization/roles"): Need(
        "ANY", ("authorization:role:view",), "AuthorizationApi.get_authorization_roles"
    ),
    ("POST", "/api/v2/authorization/roles"): Need(
        "ANY", ("authorization:role:add",), "AuthorizationApi.post_authorization_roles"
    ),
    ("GET", "/api/v2/authorization/roles/{roleId}"): Need(
        "ANY", ("authorization:role:view",), "AuthorizationApi.get_authorization_role"
    ),
    ("PUT", "/api/v2/authorization/roles/{roleId}"): Need(
        "ANY", ("authorization:role:edit",), "AuthorizationApi.put_authorization_role"
    ),
    ("DELETE", "/api/v2/authorization/roles/{roleId}"): Need(
        "ANY", ("authorization:role:delete",), "AuthorizationApi.delete_authorization_role"
    ),
    ("PUT", "/api/v2/authorization/roles/{roleId}/users/add"): Need(
        "ANY", ("authorization:grant:add",), "AuthorizationApi.put_authorization_role_users_add"
    ),
    ("GET", "/api/v2/authorization/divisions/home"): Need(
        "NONE", (), "AuthorizationApi.get_authorization_divisions_home"
    ),
    ("GET", "/api/v2/authorization/subjects/me"): Need(
        "NONE", (), "AuthorizationApi.get_authorization_subjects_me"
    ),
    ("GET", "/api/v2/oauth/clients"): Need("ANY", ("oauth:client:view",), "OAuthApi.get_oauth_clients"),
    ("POST", "/api/v2/oauth/clients"): Need("ANY", ("oauth:client:add",), "OAuthApi.post_oauth_clients"),
    ("GET", "/api/v2/oauth/clients/{clientId}"): Need(
        "ANY", ("oauth:client:view",), "OAuthApi.get_oauth_client"
    ),
    ("PUT", "/api/v2/oauth/clients/{clientId}"): Need(
        "ANY", ("oauth:client:edit",), "OAuthApi.put_oauth_client"
    ),
    ("DELETE", "/api/v2/oauth/clients/{clientId}"): Need(
        "ANY", ("oauth:client:delete",), "OAuthApi.delete_oauth_client"
    ),
    ("POST", "/api/v2/oauth/clients/{clientId}/secret"): Need(
        "ANY", ("oauth:client:edit",), "OAuthApi.post_oauth_client_secret"
    ),
    ("POST", "/api/v2/routing/queues"): Need("ANY", ("routing:queue:add",), "RoutingApi.post_routing_queues"),
    ("PUT", "/api/v2/routing/queues/{queueId}"): Need(
        "ANY", ("routing:queue:edit",), "RoutingApi.put_routing_queue"
    ),
    ("DELETE", "/api/v2/routing/queues/{queueId}"): Need(
        "ANY", ("routing:queue:delete",), "RoutingApi.delete_routing_queue"
    ),
    ("GET", "/api/v2/routing/queues/{queueId}/members"): Need(
        "ANY",
        ("routing:queue:view", "routing:queue:edit", "routing:queue:readonly"),
        "RoutingApi.get_routing_queue_members",
    ),
    ("POST", "/api/v2/routing/queues/{queueId}/members"): Need(
        "ANY", ("routing:queue:edit", "routing:queueMember:manage"), "RoutingApi.post_routing_queue_members"
    ),
    ("GET", "/api/v2/integrations"): Need(
        "ANY", ("integrations:integration:view",), "IntegrationsApi.get_integrations"
    ),
    ("POST", "/api/v2/integrations"): Need(
        "ANY", ("integrations:integration:add",), "IntegrationsApi.post_integrations"
    ),
    ("GET", "/api/v2/integrations/{integrationId}"): Need(
        "ANY", ("integrations:integration:view",), "IntegrationsApi.get_integration"
    ),
    ("PATCH", "/api/v2/integrations/{integrationId}"): Need(
        "ANY", ("integrations:integration:edit",), "IntegrationsApi.patch_integration"
    ),
    ("DELETE", "/api/v2/integrations/{integrationId}"): Need(
        "ANY", ("integrations:integration:delete",), "IntegrationsApi.delete_integration"
    ),
    ("GET", "/api/v2/integrations/{integrationId}/config/current"): Need(
        "ANY", ("integrations:integration:view",), "IntegrationsApi.get_integration_config_current"
    ),
    ("PUT", "/api/v2/integrations/{integrationId}/config/current"): Need(
        "ANY", ("integrations:integration:edit",), "IntegrationsApi.put_integration_config_current"
    ),
}
"""(method, route template) -> what a person's token needs for it."""


def grants(granted: str, required: str) -> bool:
    """Whether one granted permission covers one required permission (`*` segments are wildcards)."""
    g, r = granted.split(":"), required.split(":")
    if len(g) != 3 or len(r) != 3:
        return granted == required
    return all(a == "*" or a == b for a, b in zip(g, r, strict=True))


def holds(granted: Iterable[str], required: str) -> bool:
    return any(grants(g, required) for g in granted)


def missing(need: Need, granted: Iterable[str]) -> tuple[str, ...]:
    """The permissions the holder of `granted` lacks for `need` (empty: allowed)."""
    have = tuple(granted)
    if need.mode == "NONE" or not need.permissions:
        return ()
    if need.mode == "ANY":
        return () if any(holds(have, p) for p in need.permissions) else need.permissions
    return tuple(p for p in need.permissions if not holds(have, p))


def need_for(method: str, template: str) -> Need | None:
    return ROUTE_PERMISSIONS.get((method, template))
