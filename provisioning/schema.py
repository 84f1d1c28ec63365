"""The conversation custom-attributes schema the service writes its export status into.

The schema itself (title and fields) belongs to the write-back (`export.writeback`): this step calls
the service's own `ensure_schema(client)`, so a change of the schema's format needs no change here.
"""

from __future__ import annotations

import logging

from export import writeback
from provisioning.plan import CREATE, OK, Context, Finding, Outcome

logger = logging.getLogger(__name__)


class SchemaStep:
    key = "schema"
    needs: tuple[str, ...] = ()
    title = f"Custom attributes schema {writeback.SCHEMA_TITLE!r}"

    def __init__(self, ctx: Context) -> None:
        pass

    def inspect(self, ctx: Context) -> Finding:
        found = ctx.require_client().find_custom_attribute_schema(writeback.SCHEMA_TITLE)
        if found is None:
            return Finding(
                CREATE, f"create the conversation custom attributes schema {writeback.SCHEMA_TITLE!r}"
            )
        return Finding(OK, f"custom attributes schema {writeback.SCHEMA_TITLE!r} exists", found=found)

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        schema_id = writeback.ensure_schema(ctx.require_client())
        return Outcome(
            "created", f"created the custom attributes schema {writeback.SCHEMA_TITLE!r} ({schema_id})"
        )
