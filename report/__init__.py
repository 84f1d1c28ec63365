"""The reconciliation report: every call of an interval, per export profile, and why nothing was exported."""
