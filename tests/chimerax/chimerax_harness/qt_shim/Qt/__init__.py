"""WORKAROUND (wheel gap): ChimeraX imports Qt through its own small shim package ``Qt`` (it picks
PyQt6 or PySide6), which ships with the ChimeraX application but not in the PyPI wheel.  The colour
key, 2D labels and thumbnails draw text with Qt even offscreen.  This stand-in maps ``Qt.QtCore``,
``Qt.QtGui`` and ``Qt.QtWidgets`` onto PyQt6 (installed from PyPI) for the test harness only.

ChimeraX code uses Qt5-style unscoped enum names (``Qt.AlignCenter``); PyQt6 only has scoped ones
(``Qt.AlignmentFlag.AlignCenter``), so each module copies enum members up onto their classes,
as ChimeraX's own shim does.
"""
import enum

qt_version = "6"
using_pyqt6 = True
using_pyside6 = False
using_qt6 = True


def promote_enums(module) -> None:
    """Make every scoped enum member also reachable from its enclosing class."""
    for owner_name in dir(module):
        owner = getattr(module, owner_name)
        if not isinstance(owner, type):
            continue
        for attr_name in list(vars(owner)):
            value = vars(owner)[attr_name]
            if isinstance(value, type) and issubclass(value, enum.Enum):
                for name, member in value.__members__.items():  # includes composite flags
                    if not hasattr(owner, name):
                        try:
                            setattr(owner, name, member)
                        except (AttributeError, TypeError):
                            pass


def qt_image_bytes(qimage) -> bytes:
    """The raw pixel bytes of a QImage (PyQt6 hands out a sip pointer that needs its size)."""
    pointer = qimage.constBits()
    pointer.setsize(qimage.sizeInBytes())
    return bytes(pointer)


def qt_object_is_deleted(obj) -> bool:
    from PyQt6 import sip
    return sip.isdeleted(obj)


def qt_have_web_engine() -> bool:
    return False
