"""The plugin's one user-facing exception, in a module of its own so every layer can raise it without cycles."""
from __future__ import annotations


class PluginError(Exception):
    """Something the user can fix; str() is the one line shown in PyMOL's feedback."""
