"""The durable export ledger: work lives here, never only in a mailbox."""

from ledger.db import LedgerUnavailable
from ledger.migrations import LATEST as SCHEMA_VERSION
from ledger.migrations import LedgerTooNew
from ledger.store import LEADER, Instance, Job, Ledger, OutputRecord, PendingConversation

__all__ = [
    "LEADER",
    "SCHEMA_VERSION",
    "Instance",
    "Job",
    "Ledger",
    "LedgerTooNew",
    "LedgerUnavailable",
    "OutputRecord",
    "PendingConversation",
]
