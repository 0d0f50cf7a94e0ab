"""Work-arounds for the gaps of the PyPI ``chimerax`` 0.1.71 wheel (ChimeraX 1.7.1 core).

Every function here exists only because that wheel is incomplete; a ChimeraX installed from
its own installer needs none of them, and the saprot bundle never imports this module.
Each function says which gap it papers over.  They touch nothing on disk outside a
temporary directory the caller names and never edit the wheel's files.
"""
from __future__ import annotations

import collections
import collections.abc
import os
import sys
import types
from pathlib import Path


def alias_collections_abcs() -> None:
    """grako (ChimeraX's atom-spec parser, behind ``#1/A:10``) still imports ``collections.Mapping``
    and friends, which Python 3.10 removed.  Re-expose those names from ``collections.abc``."""
    for name in ("Mapping", "MutableMapping", "Sequence", "MutableSequence", "Set",
                 "MutableSet", "Iterable", "Callable", "Hashable"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def set_app_dirs(root: Path) -> None:
    """``chimerax.app_dirs`` and the ``app_*_dir`` paths are normally set by the ChimeraX launcher
    (``chimerax.core.__main__``); the toolshed, settings and help code read them.  Point them all
    at a private temporary tree so nothing is read from or written to the user's home."""
    import chimerax

    root.mkdir(parents=True, exist_ok=True)

    class _Dirs:
        appname = "ChimeraX"
        appauthor = "UCSF"
        version = "1.7"
        user_data_dir = str(root / "data")
        user_config_dir = str(root / "config")
        user_cache_dir = str(root / "cache")
        user_log_dir = str(root / "log")
        site_data_dir = str(root / "site-data")
        site_config_dir = str(root / "site-config")

    for d in ("data", "config", "cache", "log", "site-data", "site-config", "share", "lib", "bin"):
        (root / d).mkdir(exist_ok=True)
    chimerax.app_dirs = _Dirs()
    chimerax.app_dirs_unversioned = _Dirs()
    chimerax.app_bin_dir = str(root / "bin")
    chimerax.app_data_dir = str(root / "share")
    chimerax.app_lib_dir = str(root / "lib")


def use_chimerax_user_site() -> None:
    """The launcher points Python's per-user site-packages into ChimeraX's own data folder (for a user
    who is not root), so that ChimeraX's ``pip install`` and ``toolshed install`` (``pip --user``, with
    ``PYTHONUSERBASE`` set to that folder) install there and the toolshed puts it on ``sys.path``.
    The application's ``chimerax`` package also spans that folder, so bundles installed there import as
    ``chimerax.NAME``; the wheel's ``chimerax/__init__.py`` makes it a regular package that does not,
    so the folder is added to its ``__path__``."""
    import site

    import chimerax

    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site.USER_BASE = chimerax.app_dirs.user_data_dir
    site.USER_SITE = os.path.join(site.USER_BASE, "lib", version, "site-packages")
    site.ENABLE_USER_SITE = True
    bundles = os.path.join(site.USER_SITE, "chimerax")
    if bundles not in chimerax.__path__:
        chimerax.__path__.append(bundles)


def install_nogui_module() -> None:
    """The wheel lacks ``chimerax.core.nogui``, which ``Session()`` imports for its non-graphical
    user interface object and the launcher uses for its console log.  Provide a small stand-in
    with the same names: a ``NoGuiLog`` that prints messages and a ``UI`` with ``is_gui=False``
    whose ``thread_safe`` runs the function at once, or queues it for the main thread while a test
    plays the part of an event loop (as the real ``nogui.UI`` does while its loop runs)."""
    if "chimerax.core.nogui" in sys.modules:
        return
    from chimerax.core.logger import PlainTextLog

    module = types.ModuleType("chimerax.core.nogui")

    class NoGuiLog(PlainTextLog):
        """Console log: prints every message so a test's output shows the session's log."""

        excludes_other_logs = False

        def log(self, level, msg):
            print(msg, end="" if msg.endswith("\n") else "\n", flush=True)
            return True

        def status(self, msg, color, secondary):
            if msg and not secondary:
                print(f"STATUS: {msg}", flush=True)
            return True

    class UI:
        """Non-graphical UI singleton, as ``chimerax.core.nogui.UI`` is in a full install."""

        _instance = None

        def __new__(cls, session):
            if cls._instance is None:
                import weakref
                inst = super().__new__(cls)
                inst.is_gui = False
                inst.has_graphics = False
                inst._session = weakref.ref(session)
                inst._queue = None  # set to a queue.Queue to defer thread_safe calls, as an event loop does
                cls._instance = inst
            return cls._instance

        @classmethod
        def instance(cls):
            return cls._instance

        def initialize_color_output(self, color_output):
            pass

        def initialize_offscreen_rendering(self):
            session = self._session()
            from chimerax import graphics
            try:
                context = graphics.OffScreenRenderingContext()
            except Exception as exc:  # OSMesa missing: the session still works, without images
                session.logger.info(f"Offscreen rendering is not available: {exc}")
                self.has_graphics = False
                return
            session.main_view.initialize_rendering(context)
            self.has_graphics = True
            self._app = offscreen_qt_application()

        def splash_info(self, message, splash_step=None, num_splash_steps=None):
            pass

        def build(self):
            pass

        def quit(self):
            raise SystemExit(0)

        def thread_safe(self, func, *args, **kw):
            """Run ``func`` on the main thread: queued while an event loop (``_queue``) runs, else now."""
            if self._queue is not None:
                self._queue.put((func, args, kw))
            else:
                func(*args, **kw)

    module.NoGuiLog = NoGuiLog
    module.UI = UI
    sys.modules["chimerax.core.nogui"] = module
    import chimerax.core
    chimerax.core.nogui = module


def install_qt_shim() -> bool:
    """ChimeraX imports Qt as ``Qt.QtGui`` etc. through a shim package that ships with the ChimeraX
    application, not with the wheel; the colour key and session thumbnails need it to draw text.
    Put the harness's stand-in (``qt_shim/Qt``, mapping onto PyQt6) on the path when PyQt6 exists."""
    try:
        import PyQt6  # noqa: F401
    except ImportError:
        return False
    shim = str(Path(__file__).resolve().parent / "qt_shim")
    if shim not in sys.path:
        sys.path.insert(0, shim)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return True


def offscreen_qt_application():
    """A QApplication on Qt's offscreen platform, as ChimeraX's own nogui UI makes for labels and keys."""
    try:
        from Qt.QtWidgets import QApplication
    except ImportError:
        return None
    return QApplication.instance() or QApplication(["ChimeraX", "-platform", "offscreen"])


class _MetadataOnlyDistribution:
    """Just enough of a ``pkg_resources.Distribution`` for the toolshed's metadata parser."""

    def __init__(self, name: str, version: str, classifiers: tuple[str, ...], packages: list[str]):
        self.project_name = name
        self.key = name.lower()
        self.version = version
        self.location = ""
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                 f"Summary: {name} (built into the chimerax wheel)"]
        lines += [f"Classifier: {c}" for c in classifiers]
        self._metadata = {
            "METADATA": "\n".join(lines) + "\n",
            "RECORD": "".join(f"{p.replace('.', '/')}/__init__.py,,\n" for p in packages),
        }

    def has_metadata(self, name):
        return name in self._metadata

    def get_metadata(self, name):
        return self._metadata[name]

    def get_metadata_lines(self, name):
        return self._metadata[name].splitlines()

    def requires(self, extras=()):
        return []

    def __repr__(self):
        return f"{self.project_name} {self.version} (metadata only)"


def register_builtin_bundles() -> None:
    """The wheel ships no per-bundle metadata, so the toolshed finds no built-in commands
    (``Unknown command: open``).  Feed the toolshed's own metadata parser distributions that
    carry the classifier lines of the built-in bundles (see ``builtin_bundles``), alongside the
    real installed distributions (which include the saprot bundle, installed by pip)."""
    import pkg_resources
    from chimerax.core.toolshed import installed

    from .builtin_bundles import BUILTIN_BUNDLES

    real_working_set = pkg_resources.WorkingSet

    def api_package(bundle) -> str:
        head = bundle.classifiers[0].split(" :: ")
        return head[4]

    extra = [_MetadataOnlyDistribution(b.name, b.version, b.classifiers, [api_package(b)])
             for b in BUILTIN_BUNDLES]

    class WorkingSetWithBuiltins(real_working_set):
        def __iter__(self):
            yield from super().__iter__()
            yield from extra

    pkg_resources.WorkingSet = WorkingSetWithBuiltins
    installed.pkg_resources = pkg_resources  # the loader imports WorkingSet at call time


def osmesa_available() -> bool:
    """Whether PyOpenGL can load OSMesa, which offscreen images need."""
    import ctypes.util
    return ctypes.util.find_library("OSMesa") is not None


def prepare_environment(root: Path, offscreen: bool) -> None:
    """Apply every workaround above, in the order the session start needs them."""
    if offscreen:
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    alias_collections_abcs()
    install_qt_shim()
    set_app_dirs(root)
    use_chimerax_user_site()
    install_nogui_module()
    register_builtin_bundles()
