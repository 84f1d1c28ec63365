"""Reliability policies shared by every layer: backoff and retry cadence."""
