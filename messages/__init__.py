"""Frozen dataclasses exchanged by actors."""
