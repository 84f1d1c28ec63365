"""The service's role: exactly `genesys.permissions.ROLE_PERMISSIONS`, and the administrator's grant of it.

`AuthorizationApi`: `GET/POST /api/v2/authorization/roles` (`DomainOrganizationRoleCreate`),
`PUT …/roles/{id}` (`DomainOrganizationRoleUpdate`), permission policies as in the Terraform
provider's `genesyscloud_auth_role` (``domain``, ``entity_name``, ``action_set``). A permission removed
from the role, or one added by hand, is put back to the list on the next run.

Genesys lets an administrator give an OAuth client only roles they hold themselves (Genesys'
premium-app installer grants its role to the signed-in user before it assigns the role to its client:
`wizard/scripts/modules/role.js` `configure`), so a person signed in through the browser is granted the
role first (`RoleGrantStep`). An admin OAuth client has no user to grant it to.
"""

from __future__ import annotations

import logging
from typing import Any

from genesys.permissions import ROLE_PERMISSIONS, granted_by, permission_policies
from provisioning.plan import CREATE, OK, UPDATE, Context, Finding, Outcome, collision, is_ours, with_marker

logger = logging.getLogger(__name__)

DESCRIPTION = "Permissions of the callexport export service (Genesys Cloud recordings to file storage)."


def find_role(ctx: Context, name: str) -> dict[str, Any] | None:
    client = ctx.require_client()
    roles = client.all_pages(
        "GET /api/v2/authorization/roles",
        lambda page: client.authorization.get_authorization_roles(
            page_number=page, page_size=100, name=name, user_count=False
        ),
    )
    return next((r for r in roles if str(r.get("name", "")).lower() == name.lower()), None)


class RoleStep:
    key = "role"
    needs: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.title = f"Role {ctx.options.role_name!r}"

    def inspect(self, ctx: Context) -> Finding:
        name = ctx.options.role_name
        role = find_role(ctx, name)
        if role is None:
            ctx.values.pop("role_id", None)
            return Finding(CREATE, f"create the role {name!r} with {len(ROLE_PERMISSIONS)} permissions")
        if not is_ours(role.get("description")) and self.key not in ctx.options.adopt:
            return collision("role", name, "--role-name", self.key)
        ctx.values["role_id"] = role["id"]
        granted = granted_by(role.get("permissionPolicies") or [])
        changes = [f"add permission {p}" for p in sorted(set(ROLE_PERMISSIONS) - granted)]
        changes += [f"remove permission {p}" for p in sorted(granted - set(ROLE_PERMISSIONS))]
        if not is_ours(role.get("description")):
            changes.append("mark it as managed by callexport setup (adopted)")
        if not changes:
            return Finding(
                OK, f"role {name!r} has exactly the {len(ROLE_PERMISSIONS)} permissions", found=role
            )
        return Finding(UPDATE, f"fix the role {name!r}: " + "; ".join(changes), changes, found=role)

    def _body(self, ctx: Context, found: dict[str, Any] | None) -> dict[str, Any]:
        description = (found or {}).get("description") or DESCRIPTION
        return {
            "name": ctx.options.role_name,
            "description": with_marker(description),
            "permissionPolicies": permission_policies(ROLE_PERMISSIONS),
        }

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        client = ctx.require_client()
        if finding.action == CREATE:
            role = client.call(
                "POST /api/v2/authorization/roles",
                lambda: client.authorization.post_authorization_roles(self._body(ctx, None)),
            )
            ctx.values["role_id"] = role["id"]
            return Outcome(
                "created", f"created the role {ctx.options.role_name!r} ({len(ROLE_PERMISSIONS)} permissions)"
            )
        found = finding.found
        assert found is not None  # an UPDATE finding carries the role it found
        role_id = found["id"]
        client.call(
            "PUT /api/v2/authorization/roles/{roleId}",
            lambda: client.authorization.put_authorization_role(role_id, self._body(ctx, found)),
        )
        return Outcome("updated", f"fixed the role {ctx.options.role_name!r}: " + "; ".join(finding.changes))


class RoleGrantStep:
    """The signed-in person holds the service's role (needed to give it to the OAuth client)."""

    key = "role-grant"
    needs: tuple[str, ...] = ("role",)

    def __init__(self, ctx: Context) -> None:
        self.title = f"Role {ctx.options.role_name!r} granted to you"

    def inspect(self, ctx: Context) -> Finding:
        if ctx.session is None or not ctx.session.is_person:
            return Finding(OK, "not needed: signed in as an admin OAuth client")
        role_id = ctx.values.get("role_id")
        if role_id is None:
            return Finding(
                CREATE, "grant you the new role (Genesys lets you give an OAuth client only roles you hold)"
            )
        client = ctx.require_client()
        me = client.call(
            "GET /api/v2/authorization/subjects/me",
            lambda: client.authorization.get_authorization_subjects_me(),
        )
        ctx.values["admin_subject_id"] = me["id"]
        if any((g.get("role") or {}).get("id") == role_id for g in me.get("grants") or []):
            return Finding(OK, f"you hold the role {ctx.options.role_name!r}")
        return Finding(
            CREATE,
            f"grant you the role {ctx.options.role_name!r} (Genesys lets you give an OAuth client only roles you hold)",
            data={"subject_id": me["id"]},
        )

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        client = ctx.require_client()
        role_id = ctx.values["role_id"]
        subject_id = finding.data.get("subject_id") or ctx.values.get("admin_subject_id")
        if subject_id is None:
            me = client.call(
                "GET /api/v2/authorization/subjects/me",
                lambda: client.authorization.get_authorization_subjects_me(),
            )
            subject_id = me["id"]
        client.call(
            "PUT /api/v2/authorization/roles/{roleId}/users/add",
            lambda: client.authorization.put_authorization_role_users_add(role_id, [subject_id]),
        )
        return Outcome("created", f"granted you the role {ctx.options.role_name!r}")
