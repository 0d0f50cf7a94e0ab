"""Run slow work (scoring, model fetch/export) without ever blocking the ChimeraX GUI.

With a GUI the work runs in a background thread; progress lines and the final result are handed
to the UI thread through ``session.ui.thread_safe``.  Without a GUI (``--nogui``, scripts) the
work runs in the calling thread, so the command has finished when it returns and errors surface
as the command's own ``UserError``.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

Report = Callable[[str], None]
Work = Callable[[Report, threading.Event], Any]

_active: list[threading.Event] = []


def should_run_in_background(session) -> bool:
    return bool(getattr(session.ui, "is_gui", False))


def _status(session, text: str) -> None:
    session.logger.status(text)


def run_job(session, label: str, work: Work, on_done: Callable[[Any], None],
            background: bool | None = None) -> threading.Thread | None:
    """Run ``work(report, cancel)`` and then ``on_done(result)`` on the UI thread.

    Returns the worker thread when running in the background, None when finished in place.
    In the background, an ``InputError`` is logged as one error line and anything else as
    ``label failed: ...``; nothing is applied in either case.
    """
    if background is None:
        background = should_run_in_background(session)
    cancel = threading.Event()
    if not background:  # ``saprot stop`` from a script the work calls back into still reaches it
        from chimerax.core.errors import UserError
        from saprot_scan import InputError
        _active.append(cancel)
        try:
            result = work(lambda text: _status(session, text), cancel)
        except InputError as err:
            raise UserError(f"{label}: {err}") from None
        finally:
            if cancel in _active:
                _active.remove(cancel)
        on_done(result)
        return None

    _active.append(cancel)
    ui = session.ui

    def report(text: str) -> None:
        ui.thread_safe(_status, session, text)

    def worker() -> None:
        from saprot_scan import InputError, ScanCancelled
        try:
            result = work(report, cancel)
        except ScanCancelled:
            ui.thread_safe(session.logger.info, f"{label} cancelled")
        except InputError as err:
            ui.thread_safe(session.logger.error, f"{label}: {err}")
        except Exception as err:  # reported on the UI thread, never lost with the thread
            ui.thread_safe(session.logger.error, f"{label} failed: {type(err).__name__}: {err}")
        else:
            ui.thread_safe(on_done, result)
        finally:
            if cancel in _active:
                _active.remove(cancel)

    thread = threading.Thread(target=worker, name=label, daemon=True)
    _status(session, f"{label} running in the background")
    thread.start()
    return thread


def on_ui(session, func: Callable, *args) -> None:
    """Call ``func(*args)`` on the UI thread: at once from it, through ``session.ui.thread_safe`` from a worker."""
    if threading.current_thread() is threading.main_thread():
        func(*args)
    else:
        session.ui.thread_safe(func, *args)


def cancel_all() -> int:
    """Ask every running background job to stop; returns how many were running."""
    running = list(_active)
    for event in running:
        event.set()
    return len(running)
