"""Export profiles: JSON Schema, validation, defaults and scoping."""
