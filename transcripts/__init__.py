"""Speech-to-text transcript parsing, filtering, time mapping and the nine output formats."""
