"""Thread-free export logic: what the actors sequence (below actors/, above the engines)."""
