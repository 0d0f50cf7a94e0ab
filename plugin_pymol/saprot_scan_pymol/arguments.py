"""What every command does with its arguments: user mistakes become one PyMOL error line, flags and choices are
parsed one way, output paths are checked before any work."""
from __future__ import annotations

import functools
from pathlib import Path

import pymol
from pymol import cmd

from .core_link import PluginError, user_errors
from .jobs import gui_running


def user_command(function):
    """Turn user mistakes into PyMOL's own one-line error (no traceback, nothing changed)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ValueError, *user_errors()) as err:
            raise pymol.CmdException(f"saprot_scan: {err}") from None

    return wrapper


def flag(value, default: bool = False) -> bool:
    if value in (None, ""):
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def wants_background(value) -> bool:
    """The commands' background argument: -1/auto (default) means in the background only under PyMOL's GUI."""
    return gui_running() if str(value).strip() in ("-1", "auto", "") else flag(value)


def choice(value: str, allowed, what: str) -> str:
    value = (value or allowed[0]).strip()
    if value not in allowed:
        raise ValueError(f"unknown {what} '{value}'; use one of {', '.join(allowed)}")
    return value


def output_path(filename: str, suffixes=None, *, _self=cmd) -> Path:
    if not filename or not str(filename).strip():
        raise PluginError("no file name given")
    path = Path(_self.exp_path(str(filename).strip())).expanduser()
    if suffixes and path.suffix.lower() not in suffixes:
        raise PluginError(f"{path.name}: use one of {', '.join(suffixes)}")
    if not path.parent.is_dir():
        raise PluginError(f"folder {path.parent} does not exist")
    return path
