"""Installing the core into PyMOL's own Python, as a user of the Plugin-Manager zip does.

A real "PyMOL's Python without the core" (support/python_without_core.py: a fresh venv seeing this environment's
packages but not saprot_scan) installs the zip with PyMOL's own installer, then the plugin pip-installs the
wheel the zip carries into that venv: typed as saprot_install_core headless, and asked about in PyMOL's real Qt
GUI (Xvfb), where "No" is remembered. pip runs for real with no package index (PIP_NO_INDEX): every dependency
is already there, so nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pymol", reason="pymol-open-source is not installed")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "plugin_pymol"))
import build_zip  # noqa: E402
from saprot_scan_pymol import core_install  # noqa: E402
from saprot_scan_pymol.core_link import PluginError  # noqa: E402
from support.python_without_core import python_without_core  # noqa: E402

HEADLESS = textwrap.dedent('''
    import json, sys
    zip_path, plugdir, structure = sys.argv[1:4]
    import pymol
    from pymol import cmd, menu
    from pymol.plugins import installation, legacysupport

    messages = []  # headless: PyMOL's installer reports through a message box; keep the text instead
    legacysupport.tkMessageBox.showinfo = lambda title, text, parent=None: messages.append(text)
    installation.installPluginFromFile(zip_path, parent="headless", plugdir=plugdir)
    cmd.do("saprot_install_core")
    import saprot_scan

    cmd.load(structure, "prot")
    (entry,) = [item for item in menu.mol_action(cmd, "prot") if item[1] == "score mutations"]
    cmd.do(entry[2])
    values, colours = [], []
    cmd.iterate("prot and name CA", "values.append(saprot_score(model, chain, resi)); colours.append(color)",
                space={"values": values, "colours": colours, "saprot_score": pymol.saprot_score})
    print("RESULT " + json.dumps({"installer": messages, "core_file": saprot_scan.__file__,
                                  "values": values, "colours": colours}))
''')

# Run by PyMOL's Qt GUI after start-up: install the zip from the event loop, as the Plugin Manager's button
# does, answering each message box as it opens: No to the plugin's question, OK to the installer's report.
GUI_INSTALL = textwrap.dedent('''
    import json, os
    from pymol import cmd
    from pymol.Qt import QtCore, QtWidgets
    from pymol.plugins import installation

    boxes = []

    def answer():
        box = QtWidgets.QApplication.activeModalWidget()
        if isinstance(box, QtWidgets.QMessageBox) and box.isVisible():
            boxes.append({"name": box.objectName(), "text": box.text()})
            no = box.button(QtWidgets.QMessageBox.StandardButton.No)
            (no or box.buttons()[0]).click()

    def install():
        installation.installPluginFromFile(os.environ["PLUGIN_ZIP"], plugdir=os.environ["PLUGDIR"])
        json.dump({"boxes": boxes}, open(os.environ["RESULT_FILE"], "w"))
        cmd.quit()

    timer = QtCore.QTimer()
    timer.timeout.connect(answer)
    timer.start(100)
    QtCore.QTimer.singleShot(0, install)
''')

# The next start of PyMOL's GUI: the plugin loads from the startup folder without asking; then the command
# still installs the core, on a background thread while the GUI's event loop keeps running.
GUI_RESTART = textwrap.dedent('''
    import json, os, threading
    from pymol import cmd, plugins
    from pymol.Qt import QtCore, QtWidgets

    state = {"modal_at_start": QtWidgets.QApplication.activeModalWidget() is not None,
             "loaded": plugins.plugins["saprot_scan_pymol"].loaded, "ticks": 0}
    cmd.do("saprot_install_core")
    state["threads"] = [t.name for t in threading.enumerate()]

    def poll():
        state["ticks"] += 1  # the GUI thread keeps running timers while pip works
        if "saprot_install_core" in [t.name for t in threading.enumerate()]:
            return
        import saprot_scan
        state["core_file"] = saprot_scan.__file__
        json.dump(state, open(os.environ["RESULT_FILE"], "w"))
        cmd.quit()

    timer = QtCore.QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
''')

FAILING_PIP = textwrap.dedent('''
    from pymol import cmd
    import saprot_scan_pymol
    saprot_scan_pymol.__init_plugin__()
    cmd.do("saprot_install_core")
''')

NO_QT = textwrap.dedent('''
    import sys
    for name in ("PyQt5", "PyQt6", "PySide2", "PySide6"):
        sys.modules[name] = None  # PyPI's pymol-open-source: no Qt binding installed
    from pymol import cmd
    try:
        import pymol.Qt
    except ImportError:
        print("NO_QT", flush=True)
    import saprot_scan_pymol
    saprot_scan_pymol.__init_plugin__()
    cmd.do("saprot_dialog")
''')


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory) -> Path:
    return build_zip.build(tmp_path_factory.mktemp("dist"))


def child_env(tmp_path: Path, **extra: str) -> dict:
    """A private home, config and cache; no PYTHONPATH (the child sees only its own Python) unless extra sets one."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SAPROT_SCAN_MODEL")}
    (tmp_path / "home").mkdir(exist_ok=True)
    return {**env, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "SAPROT_SCAN_CACHE": str(tmp_path / "cache"), "PIP_NO_INDEX": "1", "OMP_NUM_THREADS": "1", **extra}


def test_pymol_python_is_sys_executable_when_that_is_a_python():
    assert core_install.pymol_python(sys.executable, sys.prefix) == sys.executable


def test_pymol_python_falls_back_to_the_interpreter_under_the_prefix(tmp_path):
    """Incentive PyMOL can report its app binary (PyMOLWin.exe, the macOS app) as sys.executable."""
    prefix = tmp_path / "pymol-install"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True, timeout=120)
    app = tmp_path / "PyMOLWin.exe"
    app.write_bytes(b"not a python")
    found = core_install.pymol_python(str(app), str(prefix))
    assert found == str(prefix / "bin" / "python3")
    assert core_install.reports_prefix(found, prefix)


def test_pymol_python_refuses_an_interpreter_of_another_installation(tmp_path):
    prefix = tmp_path / "not-an-install"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python3").symlink_to(os.path.realpath(sys.executable))  # reports its own prefix, not ours
    with pytest.raises(PluginError, match=r"cannot find PyMOL's Python.*print\(sys.executable\)"):
        core_install.pymol_python(str(tmp_path / "PyMOL"), str(prefix))


def test_saprot_dialog_without_qt_says_how_to_install_pyqt5(tmp_path):
    env = child_env(tmp_path, PYTHONPATH=os.environ.get("PYTHONPATH", ""))  # this checkout's plugin and core
    proc = subprocess.run([sys.executable, "-c", NO_QT], env=env, capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "NO_QT" in output, output
    assert f"install PyQt5 into it ({sys.executable} -m pip install PyQt5)" in output
    assert "Traceback" not in output


def test_zip_installs_its_core_into_pymols_python_and_scores(tmp_path, plugin_zip, test_data):
    target = python_without_core(tmp_path)
    plugdir = tmp_path / "startup"
    plugdir.mkdir()
    (tmp_path / "headless.py").write_text(HEADLESS)
    structure = test_data / "foldseek_3di" / "1l2y.cif"
    proc = subprocess.run([str(target.python), str(tmp_path / "headless.py"), str(plugin_zip), str(plugdir),
                           str(structure)], env=child_env(tmp_path), capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    wheel = plugdir / "saprot_scan_pymol" / "wheels" / f"saprot_scan-{build_zip.version()}-py3-none-any.whl"
    assert wheel.is_file(), "PyMOL's installer did not extract the core wheel"
    assert (f"not installed in PyMOL's Python ({target.python}); type saprot_install_core to install it, or run "
            f"in a terminal: {target.python} -m pip install {wheel}") in output
    assert "pip: Successfully installed saprot-scan-0.1.0" in output
    assert f"the saprot_scan core 0.1.0 is ready in PyMOL's Python ({target.python}); no restart needed" in output
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line[len("RESULT "):])
    assert result["installer"] == ['Plugin "saprot_scan_pymol" has been installed.']
    assert Path(result["core_file"]) == target.site_packages / "saprot_scan" / "__init__.py"
    assert len(result["values"]) == 20 and all(isinstance(v, float) for v in result["values"])
    assert all(colour >= 0x40000000 for colour in result["colours"]), "residues not coloured by score"
    assert "Traceback" not in output


def test_without_a_bundled_wheel_pip_is_never_asked_for_the_core_by_name(tmp_path):
    """Issue 27 item 10: a plugin without a bundled wheel and outside a checkout (installed as a package) asked
    pip for "saprot-scan" by name, a name no index has: whoever registered it would run code in PyMOL's Python.
    Now it installs only from a bundled wheel or a checkout, and otherwise says how to get the core."""
    target = python_without_core(tmp_path, own_pip=False)
    plugin = tmp_path / "plugin"
    shutil.copytree(REPO / "plugin_pymol" / "saprot_scan_pymol", plugin / "saprot_scan_pymol",
                    ignore=shutil.ignore_patterns("wheels", "__pycache__"))
    env = child_env(tmp_path, PYTHONPATH=str(plugin), PIP_CONFIG_FILE=os.devnull)
    env.pop("PIP_FIND_LINKS", None)
    proc = subprocess.run([str(target.python), "-c", FAILING_PIP], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "carries no core wheel and is not in a saprot-scan checkout, and pip is never asked for the core by name" \
        in output
    assert "install the plugin from its release zip" in output
    assert "pip install saprot-scan" not in output and "pip:" not in output, output
    assert not (target.site_packages / "saprot_scan").exists()
    assert "Traceback" not in output


@pytest.mark.gui
@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="PyMOL's GUI needs Debian xvfb (make pymol-test-sysdeps)")
def test_gui_asks_once_and_remembers_no(tmp_path, plugin_zip):
    pytest.importorskip("PyQt5", reason="PyMOL's GUI needs a Qt binding (plugin_pymol/requirements-test.txt)")
    target = python_without_core(tmp_path)
    plugdir = tmp_path / "startup"
    plugdir.mkdir()
    (tmp_path / "install.py").write_text(GUI_INSTALL)
    (tmp_path / "restart.py").write_text(GUI_RESTART)
    env = child_env(tmp_path, PLUGIN_ZIP=str(plugin_zip), PLUGDIR=str(plugdir), XDG_RUNTIME_DIR=str(tmp_path / "home"),
                    RESULT_FILE=str(tmp_path / "first.json"))
    os.chmod(tmp_path / "home", 0o700)

    def pymol_gui(script: str, env: dict) -> str:
        proc = subprocess.run(["xvfb-run", "-a", str(target.python), "-m", "pymol", "-q", str(tmp_path / script)],
                              env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    first_log = pymol_gui("install.py", env)
    boxes = json.loads((tmp_path / "first.json").read_text())["boxes"]
    assert [box["name"] for box in boxes] == ["saprot_install_core_question", ""]
    question = boxes[0]["text"]
    assert str(target.python) in question and "saprot_scan 0.1.0" in question
    assert "onnxruntime" in question and "saprot_install_core" in question
    assert boxes[1]["text"] == 'Plugin "saprot_scan_pymol" has been installed.'
    assert "pip:" not in first_log and not (target.site_packages / "saprot_scan").exists(), "installed after No"
    saved = json.loads((tmp_path / "config" / "saprot-scan" / "pymol-plugin.json").read_text())
    assert saved["core_install_declined"] is True

    second_log = pymol_gui("restart.py", {**env, "RESULT_FILE": str(tmp_path / "second.json")})
    second = json.loads((tmp_path / "second.json").read_text())
    assert second["loaded"] and not second["modal_at_start"], "the plugin asked again after No"
    assert "type saprot_install_core to install it" in second_log
    assert second_log.count("is ready in PyMOL's Python") == 1, second_log  # logged once, not once per path
    assert "???" not in second_log and "━" not in second_log  # pip's progress bars do not reach PyMOL's log
    assert "saprot_install_core" in second["threads"], "pip did not run on a background thread"
    assert second["ticks"] > 1
    assert Path(second["core_file"]) == target.site_packages / "saprot_scan" / "__init__.py"
    assert "Traceback" not in first_log + second_log
