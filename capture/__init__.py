"""Capture and replay of one real Genesys Cloud conversation.

`python run.py capture CONVERSATION_ID -o DIR` saves every document the service reads for one
conversation, exactly as the API returned it (recorded at the client level, so the capture follows
whatever the service reads), without tokens, secrets or pre-signed URLs; `--redact` replaces phone
numbers, names, e-mail addresses and transcript words with consistent placeholders.
`python run.py simulate --replay DIR...` (`simulator.replay`) serves such a directory again.

Modules: `layout` (the directory format and its validating reader, shared with the simulator),
`scrub` (pre-signed URLs out), `redact` (placeholders), `recorder` (observes the client and turns
what it saw into files), `reads` (the reads the service makes for one conversation), `cli`.
See docs/capture.md.
"""
