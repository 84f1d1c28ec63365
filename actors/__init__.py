"""Thin pykka actors: state, wiring and supervision. Logic lives in plain modules."""
