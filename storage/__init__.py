"""Naming templates, directory modes, conflict strategies, atomic writes and file metadata."""
