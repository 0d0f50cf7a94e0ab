"""Errors the user can act on, kept apart from bugs so front ends show one clear line."""


class InputError(Exception):
    """Bad input or usage: the message is the one line the user sees (CLI exit status 2)."""


class ScanCancelled(Exception):
    """The user cancelled a running scan. ``partial``: the ScanResult of the residues finished before the
    stop (``ScanResult.partial``), when a masked scan had finished some; they are kept in the result cache."""

    partial = None


class ModelError(InputError):
    """A model file is missing, corrupt, fails its SHA-256 check, or is not a SaProt export."""


class HubUnreachable(InputError):
    """The model hub could not be reached: the user's input was fine, so the CLI exits with status 1 (not 2);
    front ends still show its message as one line (it is an InputError for them)."""


class SettingsWarning(UserWarning):
    """A saved setting could not be used and the default was used instead (shown once, never an error)."""
