"""`python run.py setup`: provision a Genesys Cloud org for callexport, idempotently.

Each Genesys Cloud object the service needs has one module here (`role`, `oauth_client`, `datatable`,
`schema`, `queue`, `client_app`) with a `Step` that first *inspects* (reads only: found by name,
what differs) and then *applies* (creates, or fixes exactly what differs). `plan` runs the steps:
`--dry-run` stops after inspecting. An object carrying our name but not our marker
(`plan.MARKER` in its description or notes) is a collision: reported with what to do, never
changed, unless the administrator adopts it with `--adopt KIND`.

`signin` gets the administrator's token (authorization code + PKCE in the browser with a loopback
redirect, or an admin OAuth client's credentials); `regions` turns a region name into its hosts;
`check` tests the result as `python run.py credentials test` does; `settings_file` writes the
service's settings; `cli` is the command.
"""
