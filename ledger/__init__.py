"""The durable export ledger: work lives here, never only in a mailbox."""

from ledger.store import Job, Ledger, OutputRecord, PendingConversation

__all__ = ["Job", "Ledger", "OutputRecord", "PendingConversation"]
