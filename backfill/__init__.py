"""`run.py backfill`: export the history of an interval through the live pipeline, exactly once."""
