"""Genesys Cloud client: OAuth, REST with retries and rate limiting, notifications."""
