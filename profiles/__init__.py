"""Export profiles: JSON Schema, validation, defaults and scoping.

``load_config(document)`` is the entry point; see docs/profiles.md for the document reference.
"""

from __future__ import annotations

from profiles.loader import load_config
from profiles.model import Config, ConfigError, ConfigLoadResult, Profile, ProfileError

__all__ = ["Config", "ConfigError", "ConfigLoadResult", "Profile", "ProfileError", "load_config"]
