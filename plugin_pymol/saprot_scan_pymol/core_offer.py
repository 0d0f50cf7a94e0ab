"""Offer to install the core when it is missing: the saprot_install_core command and the start-up question.

Installing software is the user's call, so nothing is installed without consent: typing saprot_install_core is
consent, and with PyMOL's Qt GUI the plugin asks once (a Yes/No box naming the interpreter and what pip will
add). "No" is remembered in the plugin's settings, so PyMOL does not ask at every start; headless PyMOL is
never asked, it gets one feedback line. pip runs off the GUI thread under the GUI (it can take minutes).
"""
from __future__ import annotations

import importlib
import importlib.util
import site
import threading

from pymol import cmd

from . import feedback, settings
from .arguments import user_command, wants_background
from .core_install import (bundled_wheel, install_target, pip_command, pymol_python, requirements, run_pip,
                           terminal_command)
from .core_link import PluginError, missing_core_message

COMMAND = "saprot_install_core"
DECLINED = "core_install_declined"
QUESTION_NAME = "saprot_install_core_question"  # the box's objectName, for tests and window managers

_BUSY = threading.Lock()  # one pip at a time
_OFFERED = False  # the start-up offer is made once per PyMOL process, however often the plugin initialises


def core_found() -> bool:
    """Cheap check at start-up (no import of onnxruntime & co.): is there a saprot_scan package at all?"""
    return importlib.util.find_spec("saprot_scan") is not None


def ready_core():
    """The imported core, or None when it (or one of its dependencies) cannot be imported."""
    importlib.invalidate_caches()  # pip just added folders the import system has cached as absent
    try:
        import saprot_scan
        import saprot_scan.viewers  # noqa: F401 (what the commands need)
    except ImportError:
        return None
    return saprot_scan


def what_pip_adds(target: str) -> str:
    """"saprot_scan 0.1.0 (wheel) and its dependencies (...)", for the question and the log."""
    wheel = bundled_wheel()
    if wheel is None or str(wheel) != target:
        return f"saprot_scan ({target}) and its dependencies"
    version = wheel.name.split("-")[1]
    return f"saprot_scan {version} ({wheel.name}) and its dependencies ({', '.join(requirements(wheel))})"


def install_core(background: bool) -> bool | None:
    """pip-install the core into PyMOL's Python; in the background return None at once, else True/False."""
    python, target = pymol_python(), install_target()  # a bundled wheel or a checkout, never a bare name
    if not _BUSY.acquire(blocking=False):
        raise PluginError("the core is already being installed; wait for pip to finish")
    feedback.say(f"installing {what_pip_adds(target)} into PyMOL's Python ({python}) with pip ...")

    def run() -> bool:
        try:
            return _pip_then_import(python, target)
        finally:
            _BUSY.release()

    if not background:
        return run()
    threading.Thread(target=run, name=COMMAND, daemon=True).start()
    return None


def _pip_then_import(python: str, target: str) -> bool:
    code, last_error = run_pip(pip_command(python, target), lambda line: print("   pip: " + line, flush=True))
    if code != 0:
        feedback.fail(f"installing the core failed ({last_error or f'pip exit status {code}'}); "
                      f"run this in a terminal: {terminal_command(python, target)}")
        return False
    if ready_core() is None and site.ENABLE_USER_SITE:  # pip fell back to a --user install PyMOL had no folder for
        site.addsitedir(site.getusersitepackages())
    module = ready_core()
    if module is None:
        feedback.fail(f"pip installed the core but PyMOL's Python cannot import it; restart PyMOL "
                      f"(or run in a terminal: {terminal_command(python, target)})")
        return False
    feedback.say(f"the saprot_scan core {module.__version__} is ready in PyMOL's Python ({python}); "
                 "no restart needed")
    return True


@user_command
def saprot_install_core(background=-1, *, _self=cmd):
    '''
DESCRIPTION

    "saprot_install_core" installs the saprot_scan core (the scoring package the plugin needs)
    into the Python PyMOL runs in, with that Python's pip: from the wheel the plugin's zip
    carries, plus those of its dependencies (onnxruntime, biotite, gemmi, matplotlib, ...)
    that are missing. Typing the command is your consent; pip's output goes to the log.
    With PyMOL's GUI pip runs in the background; without a GUI the command returns when done.
    No restart is needed afterwards.

USAGE

    saprot_install_core [ background ]

ARGUMENTS

    background = -1: in the background under PyMOL's GUI, else wait; 0: always wait;
                 1: always in the background {default: -1}

SEE ALSO

    saprot_scan
    '''
    module = ready_core()
    if module is not None:
        feedback.say(f"the saprot_scan core {module.__version__} is already installed in PyMOL's Python "
                     f"({pymol_python()}); nothing to do")
        return True
    return install_core(wants_background(background))


def offer_at_start(gui: bool) -> None:
    """When the plugin initialises without its core: ask once with the GUI (unless told No before), else say how."""
    global _OFFERED
    if _OFFERED or core_found():
        return
    _OFFERED = True
    if not gui or settings.load()[DECLINED]:
        feedback.warn(missing_core_message())
        return
    try:
        python = pymol_python()
        install_target()  # nothing to install from: no question, the line below says how to get the core
    except PluginError:
        feedback.warn(missing_core_message())
        return
    if ask_to_install(python):
        try:
            install_core(background=True)
        except PluginError as err:
            feedback.fail(str(err))
        return
    settings.save({DECLINED: True})
    feedback.say(f"not installing the core now (PyMOL will not ask again); type {COMMAND} when you want it")


def ask_to_install(python: str) -> bool:
    """A modal Yes/No box over PyMOL's window naming the interpreter and what pip will add."""
    from pymol.Qt import QtWidgets

    buttons = QtWidgets.QMessageBox.StandardButton
    parent = None
    try:
        from pymol import gui

        parent = gui.get_qtwindow()
    except Exception:  # no PyMOL window (a test, an embedding): a top-level box
        pass
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "saprot-scan: install its core?",
                                question_text(python), buttons.Yes | buttons.No, parent)
    box.setObjectName(QUESTION_NAME)
    box.setDefaultButton(buttons.Yes)
    (getattr(box, "exec", None) or box.exec_)()
    return box.standardButton(box.clickedButton()) == buttons.Yes


def question_text(python: str) -> str:
    return (f"The saprot-scan plugin needs its core, which is not installed in PyMOL's Python:\n\n{python}\n\n"
            f"Install {what_pip_adds(install_target())} into it with pip now? pip downloads only what is "
            "missing; PyMOL's log shows its progress, and no restart is needed.\n\n"
            f"If you answer No, PyMOL will not ask again: type {COMMAND} whenever you want it.")
