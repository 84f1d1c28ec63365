"""genesys/permissions.py is the one source of the permission list: the docs table, the role `setup`
creates and the administrator's needs all come from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genesys import permissions
from genesys.permissions import (
    ROLE_PERMISSIONS,
    SERVICE_NEEDS,
    SETUP_NEEDS,
    covers,
    granted_by,
    markdown_table,
    permission_policies,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "genesys.md"


def test_the_docs_tables_are_generated_from_the_module() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert markdown_table(SERVICE_NEEDS) in text, "docs/genesys.md: regenerate the permissions table"
    assert markdown_table(SETUP_NEEDS) in text, "docs/genesys.md: regenerate the setup permissions table"


def test_every_granted_permission_is_named_in_its_row() -> None:
    for need in (*SERVICE_NEEDS, *SETUP_NEEDS):
        for permission in need.grant:
            assert f"`{permission}`" in need.permissions, (need.feature, permission)


def test_role_permissions_are_well_formed_and_unique() -> None:
    assert ROLE_PERMISSIONS == tuple(sorted(set(ROLE_PERMISSIONS)))
    for permission in ROLE_PERMISSIONS:
        assert re.fullmatch(r"[a-zA-Z]+:[a-zA-Z]+:[a-zA-Z]+", permission), permission
    assert "recording:recording:view" in ROLE_PERMISSIONS
    assert "conversation:customAttributes:schemaAdd" not in ROLE_PERMISSIONS  # setup creates the schema


def test_policies_round_trip_and_wildcards() -> None:
    policies = permission_policies(ROLE_PERMISSIONS)
    assert granted_by(policies) == set(ROLE_PERMISSIONS)
    recording = next(p for p in policies if p["domain"] == "recording" and p["entityName"] == "recording")
    assert recording["actionSet"] == ["view"]
    assert covers({"recording:*:*"}, "recording:recording:view")
    assert covers({"*:*:*"}, "routing:queue:view")
    assert not covers({"recording:recording:view"}, "recording:retentionPolicy:view")
    with pytest.raises(ValueError):
        permissions.split("recording:view")
