"""A loopback Genesys Cloud org: HTTP + WebSocket server, scenario engine, synthetic media."""
