"""Export status written back once per conversation (issue 11 item 3, issue 12 item 1): participant
attributes within Genesys' limits, one custom-attributes record in a schema built from core types as
Genesys builds them, schema-creation failures retried with backoff and logged once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from genesys_fixtures import make_client, running_sim

from export.output_plan import status_key
from export.writeback import (
    MAX_STATUS_ATTRIBUTES,
    MAX_VALUE,
    SCHEMA_TITLE,
    KindStatus,
    SchemaRetry,
    custom_attributes_record,
    ensure_schema,
    participant_attributes,
    record_id,
    statuses_from_attributes,
    write_status,
)
from genesys.errors import BadRequest, Forbidden
from reliability.backoff import API

WHEN = datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=UTC)


def _statuses(profiles: int, files: int = 2) -> list[KindStatus]:
    out = []
    for i in range(profiles):
        name = f"Profile{i}"
        out.append(
            KindStatus(
                name,
                "audio",
                "exported",
                f"\\\\nas\\calls\\{name}",
                tuple(f"{name}_{n}.wav" for n in range(files)),
            )
        )
        out.append(KindStatus(name, "transcript", "skipped", f"\\\\nas\\calls\\{name}", (), "no transcript"))
    return out


def test_status_is_written_once_per_conversation_in_a_core_type_schema() -> None:
    with running_sim(seed=111) as sim:
        client = make_client(sim)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=10)
        assert sim.wait_until_published(call.conversation_id, 20)
        schema_id = ensure_schema(client)  # the simulator rejects plain JSON-Schema types, as Genesys does
        schema = client.find_custom_attribute_schema(SCHEMA_TITLE)
        for name, prop in schema["jsonSchema"]["properties"].items():
            core = prop["allOf"][0]["$ref"].rsplit("/", 1)[1]
            assert name.endswith(f"_{core}") and prop["title"] and "type" not in prop
        assert ensure_schema(client) == schema_id  # found again, not created twice
        customer = call.customer().participant_id
        statuses = _statuses(3, files=200)  # file lists far beyond any field bound
        before = len(sim.requests)
        write_status(client, schema_id, call.conversation_id, customer, statuses, WHEN)
        writes = [r for r in sim.requests[before:] if r.method in ("PATCH", "PUT")]
        assert [r.method for r in writes] == ["PATCH", "PUT"]  # one of each for the whole conversation
        attrs = sim.participant_attributes(call.conversation_id)[customer]
        assert (
            attrs[status_key("Profile2", "audio", "status")] == "exported"
        )  # what the duplicate check reads
        assert all(len(v) <= MAX_VALUE for v in attrs.values())
        (record,) = sim.custom_attributes(call.conversation_id)
        assert record["id"] == record_id(call.conversation_id)
        fields = record["customAttributes"]
        assert (
            fields["exportStatus_text"] == "exported"  # audio exported, transcripts skipped
            and fields["exportedAt_datetime"] == "2026-03-01T12:30:05.123Z"
        )
        assert "Profile1/transcript=skipped" in fields["exportStatuses_longtext"]
        assert fields["exportFileCount_integer"] == 600 and "more)" in fields["exportFiles_longtext"]
        write_status(client, schema_id, call.conversation_id, customer, statuses, WHEN)  # a retry
        assert len(sim.custom_attributes(call.conversation_id)) == 1  # replaced, not added


def test_participant_attributes_stay_within_genesys_limits_and_keep_every_status() -> None:
    attrs = participant_attributes(_statuses(15, files=40), WHEN)  # 30 pairs: 120 keys wanted
    assert len(attrs) <= MAX_STATUS_ATTRIBUTES and all(len(v) <= MAX_VALUE for v in attrs.values())
    statuses = {k for k in attrs if k.endswith(".status")}
    assert len(statuses) == 30  # the files/root/timestamp keys go first, never a status
    back = statuses_from_attributes(participant_attributes(_statuses(2), WHEN))
    assert [(s.profile, s.kind, s.status) for s in back] == [
        (s.profile, s.kind, s.status) for s in sorted(_statuses(2), key=lambda s: (s.profile, s.kind))
    ]


def test_record_values_fit_the_schema_the_org_has() -> None:
    rid, fields = custom_attributes_record(
        "conv-1", _statuses(40, files=50), WHEN, {"exportStatuses_longtext": 120}
    )
    assert rid == record_id("conv-1") and len(fields["exportStatuses_longtext"]) <= 120
    assert len(fields["exportProfiles_text"]) <= 100 and len(fields["exportFiles_longtext"]) <= 1000


def test_schema_creation_failure_keeps_participant_attributes_and_is_retried_with_backoff(caplog) -> None:
    with running_sim(seed=112) as sim:
        client = make_client(sim)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=10)
        assert sim.wait_until_published(call.conversation_id, 20)
        sim.faults.forbidden_paths = {"/api/v2/conversations/customattributes/schemas"}
        retry = SchemaRetry()
        delays = []
        with caplog.at_level(logging.DEBUG, logger="export.writeback"):
            for n in range(3):
                with pytest.raises(Forbidden) as failure:
                    ensure_schema(client)
                delays.append(retry.failed(failure.value, now=float(n)))
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert (
            len(warnings) == 1 and "missing.permissions" in warnings[0].getMessage()
        )  # once, with its cause
        assert all(API.base(n) <= d <= API.base(n) * (1 + API.jitter) for n, d in enumerate(delays, 1))
        customer = call.customer().participant_id
        write_status(client, None, call.conversation_id, customer, _statuses(1), WHEN)  # no schema yet
        assert (
            sim.participant_attributes(call.conversation_id)[customer][
                status_key("Profile0", "audio", "status")
            ]
            == "exported"
        )
        assert sim.custom_attributes(call.conversation_id) == []
        sim.faults.reset()
        schema_id = ensure_schema(client)
        retry.succeeded()
        assert retry.attempts == 0 and schema_id


def test_simulator_rejects_values_outside_the_schema_bounds() -> None:
    with running_sim(seed=113) as sim:
        client = make_client(sim)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=10)
        assert sim.wait_until_published(call.conversation_id, 20)
        schema_id = ensure_schema(client)
        with pytest.raises(BadRequest, match="longer than"):
            client.put_custom_attributes(
                call.conversation_id, "x", schema_id, {"exportStatus_text": "x" * 51}
            )
        with pytest.raises(BadRequest, match="YYYY-MM-DDTHH"):
            client.put_custom_attributes(
                call.conversation_id, "x", schema_id, {"exportedAt_datetime": "yesterday"}
            )
        with pytest.raises(BadRequest, match="integer"):
            client.put_custom_attributes(
                call.conversation_id, "x", schema_id, {"exportFileCount_integer": "3"}
            )
