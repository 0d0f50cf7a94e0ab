"""Saved sessions keep ``saprot_score``; an offscreen image shows the colours and the key;
with a GUI the scan runs in a background thread and is applied on the UI thread."""
import ctypes.util

import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)


def test_saved_session_keeps_the_attribute(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 model " + params["model"])
before = {r.number: r.saprot_score for r in session.models[0].residues
          if getattr(r, "saprot_score", None) is not None}
path = params["work"] + "/scan.cxs"
run(session, "save " + path)
run(session, "close")
run(session, "open " + path)
from chimerax.atomic import all_atomic_structures
m = all_atomic_structures(session)[0]
after = {r.number: r.saprot_score for r in m.residues if getattr(r, "saprot_score", None) is not None}
out["same"] = before == after and len(after) == 129
worst = min(after.values())
run(session, f"select ::saprot_score<={worst}")
out["selected"] = len(session.selection.items("atoms")[0].unique_residues)
out["mutations"] = list(run(session, "saprot mutations #1/A:52").values())[0]   # the scan came back too
run(session, "saprot color #1 summary max")
out["max_recoloured"] = len([r for r in m.residues if getattr(r, "saprot_score", None) is not None])
run(session, "close session")
out["after_close"] = user_error("saprot mutations #1/A:52")
""")
    assert out["same"]
    assert out["selected"] == 1
    assert len(out["mutations"]) == 19
    assert out["max_recoloured"] == 129
    assert out["after_close"]


@pytest.mark.skipif(ctypes.util.find_library("OSMesa") is None,
                    reason="OSMesa (Debian libosmesa6) is not installed: no offscreen rendering")
def test_offscreen_image_shows_colours_and_key(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
run(session, "windowsize 480 360")
run(session, "saprot scan #1 model " + params["model"] + " palette -0.5,red:0,white:0.5,blue")
out["has_graphics"] = session.ui.has_graphics
path = params["work"] + "/scan.png"
run(session, f"save {path} width 480 height 360")
from PIL import Image
import numpy as np
img = np.asarray(Image.open(path).convert("RGB")).astype(int)
red = (img[..., 0] > 180) & (img[..., 1] < 80) & (img[..., 2] < 80)
blue = (img[..., 2] > 180) & (img[..., 0] < 80) & (img[..., 1] < 80)
out["shape"] = list(img.shape)
out["red"] = int(red.sum())
out["blue"] = int(blue.sum())
out["background"] = float((img.sum(axis=2) == 0).mean())
ys = np.nonzero(red)[0]
out["red_lowest_row"] = int(ys.max()) if len(ys) else -1
""", offscreen=True)
    assert out["has_graphics"]
    assert out["shape"] == [360, 480, 3]
    assert 0.3 < out["background"] < 0.99         # a structure was drawn on the black background
    assert out["red"] > 50 and out["blue"] > 50  # both ends of the palette (key and residues)
    assert out["red_lowest_row"] > 360 * 0.6     # the key's red end sits in the lower part


def test_gui_scan_runs_in_background_and_applies_on_ui_thread(chimerax):
    out = chimerax("""
import queue, threading, time
ui = session.ui
run(session, "open " + params["1aki"])
main = threading.current_thread()
ran_on = []
from chimerax.saprot import scan as commands  # the saprot scan command's module
original = commands._apply_scan
def recording_apply(*a, **k):
    ran_on.append(threading.current_thread() is main)
    return original(*a, **k)
commands._apply_scan = recording_apply

ui._queue = queue.Queue()   # an event loop now owns the UI thread
ui.is_gui = True
run(session, "saprot scan #1 model " + params["model"])
out["returned_before_apply"] = not any(getattr(r, "saprot_score", None) is not None
                                       for r in session.models[0].residues)
workers = [t for t in threading.enumerate() if t.name == "saprot scan"]
out["worker_started"] = len(workers) == 1 and workers[0] is not main
deadline = time.time() + 120
while time.time() < deadline:
    try:
        func, args, kw = ui._queue.get(timeout=0.2)
    except queue.Empty:
        if not any(t.is_alive() for t in workers) and ran_on:
            break
        continue
    func(*args, **kw)
ui.is_gui = False
ui._queue = None
out["applied_on_main"] = ran_on == [True]
out["scored"] = sum(1 for r in session.models[0].residues if getattr(r, "saprot_score", None) is not None)
out["progress"] = [s for s in log.status_lines if "positions" in s]
""")
    assert out["returned_before_apply"] and out["worker_started"]
    assert out["applied_on_main"]
    assert out["scored"] == 129
    assert out["progress"] and out["progress"][-1].endswith("129/129 positions")


def test_structure_closed_during_a_background_scan_is_left_alone(chimerax):
    out = chimerax("""
import queue, threading, time
ui = session.ui
run(session, "open " + params["1aki"])
run(session, "open " + params["1aki"])
ui._queue = queue.Queue()
ui.is_gui = True
run(session, "saprot scan #1,2 model " + params["model"])
run(session, "close #1")        # the user closes one structure while the scan runs
workers = [t for t in threading.enumerate() if t.name == "saprot scan"]
deadline = time.time() + 120
while time.time() < deadline:
    try:
        func, args, kw = ui._queue.get(timeout=0.2)
    except queue.Empty:
        if not any(t.is_alive() for t in workers):
            break
        continue
    func(*args, **kw)
ui.is_gui = False
ui._queue = None
from chimerax.atomic import all_atomic_structures
left = all_atomic_structures(session)
out["left"] = [m.id_string for m in left]
out["scored"] = sum(1 for r in left[0].residues if getattr(r, "saprot_score", None) is not None)
out["text"] = log.text()
""")
    assert out["left"] == ["2"] and out["scored"] == 129
    assert "closed during the scan" in out["text"]
