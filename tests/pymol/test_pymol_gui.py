"""PyMOL's real Qt GUI under Xvfb: right-click a protein atom, open "residue", click "score mutations".

PyMOL runs in a subprocess on its own X server; xdotool moves and clicks the real mouse. PyMOL draws
its popup menus itself (OpenGL), so the menu rows are found on screenshots: the pixels that change
when a menu opens, split into rows of white text. Screenshots are kept in tests/artifacts/.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"

pytestmark = [pytest.mark.gui, pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool") and shutil.which("xwininfo")),
    reason="the real-window test needs Debian xvfb, xdotool and x11-utils (make pymol-test-sysdeps)")]

STARTUP = textwrap.dedent('''
    import json, os, sys, threading, time
    sys.path.insert(0, os.environ["PLUGIN_DIR"])
    from pymol import cmd
    import saprot_scan_pymol
    from saprot_scan_pymol import jobs, store
    saprot_scan_pymol.__init_plugin__()
    cmd.load(os.environ["STRUCTURE"], "prot")
    cmd.load(os.environ["BIG_STRUCTURE"], "big")  # long enough to cancel mid-scan
    cmd.disable("big")
    cmd.show_as("spheres", "prot")
    cmd.orient("prot")
    cmd.zoom("prot and resi 6", 6)
    cmd.center("prot and resi 6 and name CZ2")

    def report():
        time.sleep(2)
        ready = {"viewport": cmd.get_viewport(), "gui_running": jobs.gui_running()}
        json.dump(ready, open(os.environ["READY_FILE"], "w"))
        while not (store.STORE.scores and not jobs.RUNNER.busy()):
            time.sleep(0.2)
        rows = []
        cmd.iterate("prot and name CA", "rows.append((chain, resi, color))", space={"rows": rows})
        result = {
            "outcome": jobs.RUNNER.last_outcome,
            "thread": jobs.RUNNER._thread is not None and jobs.RUNNER._thread.name,
            "chains": [key.label for key in store.STORE.scores],
            "residues": [[c, r, col, store.saprot_score("prot", c, r)] for c, r, col in rows],
        }
        json.dump(result, open(os.environ["RESULT_FILE"], "w"))

    threading.Thread(target=report, daemon=True).start()

    # Plugin menu and dialog geometry, read on the GUI thread (a Qt timer) for the driver
    from pymol import gui
    from pymol.Qt import QtCore
    from saprot_scan_pymol import dialog

    bar = gui.get_qtwindow().menuBar()
    plugin_action = [a for a in bar.actions() if a.text().replace("&", "") == "Plugin"][0]
    centre = bar.mapToGlobal(bar.actionGeometry(plugin_action).center())
    menu_info = {"plugin_menu_xy": [centre.x(), centre.y()],
                 "plugin_items": [a.text() for a in plugin_action.menu().actions()]}
    json.dump(menu_info, open(os.environ["MENU_FILE"], "w"))

    def dump_dialog():
        d = dialog._DIALOG
        if d is None or not d.isVisible():
            return
        def centre(widget):
            p = widget.mapToGlobal(widget.rect().center())
            return [p.x(), p.y()]

        info = {"score_xy": centre(d.score_button), "cancel_xy": centre(d.cancel_button),
                "selection_xy": centre(d.selection), "status": d.status.text(),
                "progress": d.progress.value(), "method": d.method.currentText(),
                "summary": d.summary.currentText(), "busy": jobs.RUNNER.busy(),
                "score_enabled": d.score_button.isEnabled(),
                "scored": [key.label for key in store.STORE.scores]}
        json.dump(info, open(os.environ["DIALOG_FILE"] + ".tmp", "w"))
        os.replace(os.environ["DIALOG_FILE"] + ".tmp", os.environ["DIALOG_FILE"])

    pymol_timer = QtCore.QTimer()
    pymol_timer.timeout.connect(dump_dialog)
    pymol_timer.start(200)
    import pymol
    pymol._gui_test_timer = pymol_timer
''')

SHOT = textwrap.dedent('''
    import sys
    from PyQt5 import QtWidgets
    app = QtWidgets.QApplication(sys.argv[:1])
    app.primaryScreen().grabWindow(0).save(sys.argv[1])
''')


class Screen:
    """One Xvfb display, screenshots of it, and xdotool on it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        read_fd, write_fd = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x768x24",
                                      "-nolisten", "tcp"], pass_fds=(write_fd,),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        assert number, "Xvfb did not report a display number"
        self.display = f":{number}"
        (workdir / "shot.py").write_text(SHOT)
        self.count = 0

    def env(self) -> dict:
        return {**os.environ, "DISPLAY": self.display, "QT_QPA_PLATFORM": "xcb"}

    def shot(self, name: str | None = None) -> np.ndarray:
        from PIL import Image

        self.count += 1
        path = self.workdir / f"shot{self.count}.png"
        subprocess.run([sys.executable, str(self.workdir / "shot.py"), str(path)], env=self.env(),
                       check=True, capture_output=True, timeout=60)
        if name:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, ARTIFACTS / name)
        return np.asarray(Image.open(path).convert("RGB")).astype(int)

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env(), check=True, timeout=30)

    def largest_pymol_window(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the OpenGL view: the largest child window named PyMOL."""
        tree = subprocess.run(["xwininfo", "-root", "-tree"], env=self.env(), capture_output=True,
                              text=True, check=True).stdout
        best = None
        for line in tree.splitlines():
            if '"PyMOL": ("PyMOL"' not in line:
                continue
            size, absolute = line.split()[-2:]
            w, h = (int(v) for v in size.split("+")[0].split("x"))
            x, y = (int(v) for v in absolute.lstrip("+").split("+"))
            if best is None or w * h > best[2] * best[3]:
                if not (x == 0 and y == 0 and h > 600):  # skip the top-level frame
                    best = (x, y, w, h)
        assert best, tree
        return best

    def window_geometry(self, name: str) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the top-level window with this name (Qt popups are real X windows)."""
        tree = subprocess.run(["xwininfo", "-root", "-tree"], env=self.env(), capture_output=True,
                              text=True, check=True).stdout
        for line in tree.splitlines():
            if f'"{name}": (' in line:
                size, absolute = line.split()[-2:]
                w, h = (int(v) for v in size.split("+")[0].split("x"))
                x, y = (int(v) for v in absolute.lstrip("+").split("+"))
                return x, y, w, h
        raise AssertionError(f"no window named {name}:\n{tree}")

    def close(self) -> None:
        self.xvfb.terminate()
        self.xvfb.wait(timeout=10)


def changed_box(before: np.ndarray, after: np.ndarray, x_min: int = 0):
    """Bounding box (x0, y0, x1, y1) of the pixels that differ, right of x_min, and the mask."""
    mask = np.abs(before - after).sum(axis=2) > 30
    mask[:, :x_min] = False
    ys, xs = np.nonzero(mask)
    assert len(xs), "nothing changed on screen (no menu opened)"
    return (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), mask


def text_rows(image: np.ndarray, mask: np.ndarray, box) -> list[tuple[int, int]]:
    """Rows (y0, y1) of white menu text inside box, top to bottom."""
    x0, y0, x1, y1 = box
    region = image[y0:y1, x0:x1]
    white = (region.min(axis=2) > 170) & (np.ptp(region, axis=2) < 40) & mask[y0:y1, x0:x1]
    rows = np.nonzero(white.sum(axis=1) > 0)[0]
    bands, start, last = [], None, None
    for y in rows:
        if start is None:
            start = last = y
        elif y - last > 2:
            bands.append((y0 + start, y0 + last + 1))
            start = y
        last = y
    if start is not None:
        bands.append((y0 + start, y0 + last + 1))
    return bands


def poll_dialog(tmp_path: Path, condition, timeout: float = 120) -> dict:
    """The dialog's state (written by PyMOL's GUI thread) once condition holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        info = json.loads((tmp_path / "dialog.json").read_text())
        if condition(info):
            return info
        time.sleep(0.1)
    pytest.fail(f"dialog never reached the expected state; last: {info}")


def wait_for(path: Path, process: subprocess.Popen, timeout: float) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists():
            time.sleep(0.2)
            return json.loads(path.read_text())
        if process.poll() is not None:
            pytest.fail(f"PyMOL exited with status {process.returncode}")
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {path.name}")


def test_right_click_score_mutations_in_real_pymol_window(tmp_path, tiny_onnx_model, test_data):
    pytest.importorskip("PyQt5", reason="PyMOL's GUI needs a Qt binding (plugin_pymol/requirements-test.txt)")
    structure = test_data / "foldseek_3di" / "1l2y.cif"
    (tmp_path / "startup.py").write_text(STARTUP)
    remembered = {"selection": "prot", "method": "masked", "summary": "min", "palette": "blue_white_red"}
    (tmp_path / "config" / "saprot-scan").mkdir(parents=True)
    (tmp_path / "config" / "saprot-scan" / "pymol-plugin.json").write_text(json.dumps(remembered))
    screen = Screen(tmp_path)
    env = {**screen.env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "SAPROT_SCAN_CACHE": str(tmp_path / "cache"), "SAPROT_SCAN_MODEL": str(tiny_onnx_model),
           "PLUGIN_DIR": str(REPO / "plugin_pymol"), "STRUCTURE": str(structure),
           "BIG_STRUCTURE": str(test_data / "foldseek_3di" / "2d0f.cif"),
           "READY_FILE": str(tmp_path / "ready.json"), "RESULT_FILE": str(tmp_path / "result.json"),
           "MENU_FILE": str(tmp_path / "menu.json"), "DIALOG_FILE": str(tmp_path / "dialog.json"),
           "OMP_NUM_THREADS": "1", "XDG_RUNTIME_DIR": str(tmp_path)}
    log = open(tmp_path / "pymol.log", "w")
    pymol_gui = subprocess.Popen([sys.executable, "-m", "pymol", "-q", str(tmp_path / "startup.py")],
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = wait_for(tmp_path / "ready.json", pymol_gui, 90)
        assert ready["gui_running"], "the plugin did not see PyMOL's Qt GUI"
        gx, gy, gw, gh = screen.largest_pymol_window()
        vw, vh = ready["viewport"]
        centre = (gx + vw // 2, gy + vh // 2)

        # 1. right-click the protein: PyMOL's pick menu (title, drag x2, atom, residue, chain, ...)
        before = screen.shot()
        screen.xdotool("mousemove", str(centre[0]), str(centre[1]), "click", "3")
        time.sleep(1.5)
        with_menu = screen.shot("pymol_gui_1_pick_menu.png")
        menu_box, mask = changed_box(before, with_menu)
        rows = text_rows(with_menu, mask, menu_box)
        assert len(rows) >= 11, f"pick menu rows not found: {rows}"
        residue_y = (rows[4][0] + rows[4][1]) // 2
        x = menu_box[0] + 30

        # 2. hover "residue": its submenu opens to the right; "score mutations" is its last row
        screen.xdotool("mousemove", str(x), str(residue_y))
        time.sleep(1.2)
        with_submenu = screen.shot()
        sub_box, sub_mask = changed_box(with_menu, with_submenu, x_min=menu_box[2] + 2)
        sub_rows = text_rows(with_submenu, sub_mask, sub_box)
        assert len(sub_rows) >= 10, f"residue submenu rows not found: {sub_rows}"
        entry_y = (sub_rows[-1][0] + sub_rows[-1][1]) // 2
        sub_x = sub_box[0] + 40
        for step_x, step_y in ((sub_x - 60, residue_y), (sub_x, residue_y), (sub_x, entry_y)):
            screen.xdotool("mousemove", str(step_x), str(step_y))
            time.sleep(0.3)
        screen.shot("pymol_gui_2_score_mutations_entry.png")

        # 3. click it: the scan runs in PyMOL's background thread and colours the protein
        screen.xdotool("click", "1")
        result = wait_for(tmp_path / "result.json", pymol_gui, 120)
        time.sleep(1.0)
        after = screen.shot("pymol_gui_3_coloured.png")

        # 4. Plugin > saprot-scan opens the dialog with the remembered settings; Score rescans
        menu_info = wait_for(tmp_path / "menu.json", pymol_gui, 10)
        mx, my = menu_info["plugin_menu_xy"]
        screen.xdotool("mousemove", str(mx), str(my), "click", "1")
        time.sleep(1.0)
        px, py, pw, ph = screen.window_geometry("Plugin")
        screen.xdotool("mousemove", str(px + 40), str(py + ph - 12), "sleep", "0.3", "click", "1")
        dialog_info = wait_for(tmp_path / "dialog.json", pymol_gui, 30)
        screen.shot("pymol_gui_4_dialog.png")
        sx, sy = dialog_info["score_xy"]
        screen.xdotool("mousemove", str(sx), str(sy), "sleep", "0.3", "click", "1")
        end = time.monotonic() + 120
        while time.monotonic() < end:
            dialog_info = json.loads((tmp_path / "dialog.json").read_text())
            if dialog_info["status"] == "scored and coloured":
                break
            time.sleep(0.3)
        time.sleep(0.5)
        screen.shot("pymol_gui_5_dialog_scored.png")
        scored_info = dialog_info

        # 5. a long scan (637 residues, masked) from the dialog: the GUI keeps working, Cancel stops it
        x, y = dialog_info["selection_xy"]
        screen.xdotool("mousemove", str(x), str(y), "click", "1", "key", "ctrl+a", "type", "big")
        sx, sy = dialog_info["score_xy"]
        screen.xdotool("mousemove", str(sx), str(sy), "sleep", "0.3", "click", "1")
        mid_scan = poll_dialog(tmp_path, lambda d: d["busy"] and d["progress"] > 0 and "big" in d["status"])
        screen.shot("pymol_gui_6_long_scan_progress.png")
        cx, cy = mid_scan["cancel_xy"]
        screen.xdotool("mousemove", str(cx), str(cy), "sleep", "0.2", "click", "1")
        cancelled = poll_dialog(tmp_path, lambda d: not d["busy"] and d["status"] == "cancelled")
        screen.shot("pymol_gui_7_cancelled.png")
    finally:
        pymol_gui.terminate()
        try:
            pymol_gui.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pymol_gui.kill()
        log.close()
        screen.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "pymol.log", ARTIFACTS / "pymol_gui_feedback.log")

    feedback = (tmp_path / "pymol.log").read_text()
    assert result["outcome"] == "done", feedback
    assert result["thread"] == "saprot_scan", "the scan did not run in the background thread"
    assert result["chains"] == ["prot/A"]
    assert len(result["residues"]) == 20
    assert all(colour >= 0x40000000 for _, _, colour, _ in result["residues"]), "residues not recoloured"
    assert all(value is not None for *_, value in result["residues"])
    assert "started in the background" in feedback
    assert "19 substitutions" in feedback and "best " in feedback and "worst " in feedback
    assert "Traceback" not in feedback
    assert "saprot-scan" in menu_info["plugin_items"]
    assert scored_info["method"] == "masked" and scored_info["summary"] == "min", "settings not remembered"
    assert scored_info["status"] == "scored and coloured" and scored_info["progress"] == 100
    assert feedback.count("started in the background") == 3
    assert "by min score (blue_white_red" in feedback
    # while the long scan ran, the GUI thread kept updating the dialog and disabled Score
    assert not mid_scan["score_enabled"] and 0 < mid_scan["progress"] < 100
    # the stop keeps the residues the masked scan finished, marked partial (issue 25)
    assert "big/A: preview (one-pass wild-type marginal" in feedback
    assert "big/A: partial: " in feedback and "of 637 residues scored before the scan was stopped" in feedback
    assert sorted(cancelled["scored"]) == ["big/A", "prot/A"]
    # the view changed: the green carbons of PyMOL's default colouring are gone
    view = after[gy:gy + vh, gx:gx + vw]
    green = (view[..., 1] > view[..., 0] + 60) & (view[..., 1] > view[..., 2] + 60)
    assert green.mean() < 0.002, f"{green.mean():.3%} of the view still green"
