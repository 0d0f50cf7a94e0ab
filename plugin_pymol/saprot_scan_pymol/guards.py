"""Checks a command makes before it touches the scores: no scan running, deleted objects forgotten, something scored."""
from __future__ import annotations

from pymol import cmd

from .core_link import PluginError
from .jobs import RUNNER
from .store import STORE


def forget_deleted_objects(*, _self=cmd) -> None:
    STORE.forget_objects_not_in(set(_self.get_names("objects")))


def not_while_scanning() -> None:
    if RUNNER.busy():
        raise PluginError(f"{RUNNER.label} is still running; try again when it has finished "
                          "(or stop it with saprot_cancel)")


def scored_results(*, _self=cmd) -> list:
    not_while_scanning()
    forget_deleted_objects(_self=_self)
    if not STORE.scores:
        raise PluginError("nothing scored yet; run saprot_scan first")
    return STORE.results()
