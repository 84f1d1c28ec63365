"""The durable export ledger: work lives here, never only in a mailbox."""

from ledger.store import Job, Ledger, OutputRecord

__all__ = ["Job", "Ledger", "OutputRecord"]
