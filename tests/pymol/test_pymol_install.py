"""The Plugin-Manager zip: built by `make plugin`'s script, installed by PyMOL's own installer into a
temporary startup directory, and loaded by PyMOL's plugin system, each in a fresh PyMOL process."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("pymol", reason="pymol-open-source is not installed")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "plugin_pymol"))
import build_zip  # noqa: E402

INSTALL_AND_LOAD = textwrap.dedent('''
    import json, sys
    zip_path, plugdir, structure, hide_core = sys.argv[1:5]
    if hide_core == "1":
        sys.modules["saprot_scan"] = None  # as if the core were not pip-installed
    import pymol
    from pymol import cmd, menu, plugins
    from pymol.plugins import installation

    from pymol.plugins import legacysupport

    # headless: PyMOL's installer reports through a message box; print the message instead
    messages = []
    legacysupport.tkMessageBox.showinfo = lambda title, text, parent=None: messages.append(text)
    installation.installPluginFromFile(zip_path, parent="headless", plugdir=plugdir)
    print("INSTALLER", messages, flush=True)
    plugins.set_startup_path([plugdir], autosave=False)
    plugins.initialize(-2)
    cmd.do("plugin_load saprot_scan_pymol")
    cmd.do("plugin_load saprot_scan_pymol, quiet=0")
    module = plugins.plugins["saprot_scan_pymol"].module
    module.__init_plugin__()  # a second initialisation must not add entries twice

    cmd.load(structure, "prot")
    before = []
    cmd.iterate("prot", "before.append((color, b))", space={"before": before})
    items = menu.mol_action(cmd, "prot")
    entries = [item for item in items if item[1] == "score mutations"]
    print("RUNNING", entries[0][2], flush=True)
    cmd.do(entries[0][2])
    after, values = [], []
    cmd.iterate("prot", "after.append((color, b))", space={"after": after})
    cmd.iterate("prot and name CA", "values.append(saprot_score(model, chain, resi))",
                space={"values": values, "saprot_score": pymol.saprot_score})
    print("RESULT " + json.dumps({
        "installer": messages,
        "module_file": module.__file__, "entries": len(entries), "commands": sorted(
            k for k in cmd.keyword if k.startswith("saprot_")),
        "colours_changed": sum(a[0] != b[0] for a, b in zip(after, before)),
        "b_kept": [a[1] for a in after] == [b[1] for b in before], "values": values}))
''')


def run_pymol_script(tmp_path: Path, tiny_onnx_model: Path, structure: Path, hide_core: bool):
    archive = build_zip.build(tmp_path / "dist")
    plugdir = tmp_path / "startup"
    plugdir.mkdir()
    script = tmp_path / "install_and_load.py"
    script.write_text(INSTALL_AND_LOAD)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "SAPROT_SCAN_CACHE": str(tmp_path / "cache"), "SAPROT_SCAN_MODEL": str(tiny_onnx_model),
           "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, str(script), str(archive), str(plugdir), str(structure),
                           "1" if hide_core else "0"], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    return archive, plugdir, json.loads(line[len("RESULT "):]), proc.stdout + proc.stderr


def test_zip_holds_one_package_with_plugin_entry_point(tmp_path):
    archive = build_zip.build(tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert "saprot_scan_pymol/__init__.py" in names
    assert all(n.startswith("saprot_scan_pymol/") for n in names)
    core_version = re.search(r'^version = "([^"]+)"', (REPO / "core" / "pyproject.toml").read_text(), re.M)[1]
    (wheel,) = [n for n in names if not n.endswith(".py")]  # the core, for the plugin to pip-install
    assert wheel == f"saprot_scan_pymol/wheels/saprot_scan-{core_version}-py3-none-any.whl"
    with zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(archive).read(wheel))) as core_wheel:
        assert f"saprot_scan-{core_version}.dist-info/METADATA" in core_wheel.namelist()
        assert "saprot_scan/_models/default/saprot-scan-default.onnx" in core_wheel.namelist()
    source = zipfile.ZipFile(archive).read("saprot_scan_pymol/__init__.py").decode()
    assert "def __init_plugin__(" in source and "# Version: " in source
    assert build_zip.build(tmp_path).read_bytes() == archive.read_bytes(), "build is not reproducible"


def test_zip_installs_into_startup_dir_loads_and_scores(tmp_path, tiny_onnx_model, test_data):
    structure = test_data / "foldseek_3di" / "1l2y.cif"
    _, plugdir, result, output = run_pymol_script(tmp_path, tiny_onnx_model, structure, hide_core=False)
    assert result["installer"] == ['Plugin "saprot_scan_pymol" has been installed.']
    assert Path(result["module_file"]).parent == plugdir / "saprot_scan_pymol", "not loaded from the zip"
    assert result["entries"] == 1
    assert {"saprot_scan", "saprot_color", "saprot_heatmap", "saprot_csv", "saprot_mutations",
            "saprot_restore", "saprot_cancel"} <= set(result["commands"])
    assert len(result["values"]) == 20 and None not in result["values"]
    assert result["colours_changed"] > 200 and result["b_kept"]
    assert "Traceback" not in output


def test_zip_plugin_without_core_says_how_to_install_it(tmp_path, tiny_onnx_model, test_data):
    structure = test_data / "foldseek_3di" / "1l2y.cif"
    _, plugdir, result, output = run_pymol_script(tmp_path, tiny_onnx_model, structure, hide_core=True)
    assert "saprot_scan core package is not installed in PyMOL's Python" in output
    assert "type saprot_install_core to install it" in output
    assert f"-m pip install {plugdir / 'saprot_scan_pymol' / 'wheels'}" in output
    assert result["colours_changed"] == 0 and result["b_kept"]
    assert result["values"] == [None] * 20
    assert "Traceback" not in output


#: The line docs/viewers.md gives to start the plugin in a `pymol -cq` script after the Plugin Manager install.
SCRIPT_START = '/from pymol import plugins; plugins.initialize(-2); plugins.plugin_load("saprot_scan_pymol")'

INSTALL_ONLY = textwrap.dedent('''
    import sys
    from pymol import plugins
    from pymol.plugins import installation, legacysupport

    legacysupport.tkMessageBox.showinfo = lambda title, text, parent=None: print(text, flush=True)
    installation.installPluginFromFile(sys.argv[1], parent="headless", plugdir=sys.argv[2])
    plugins.set_startup_path([sys.argv[2]], autosave=False)
    plugins.pref_save(quiet=True)  # ~/.pymolpluginsrc.py, as the Plugin Manager leaves it
''')


def test_pymol_cq_script_after_the_plugin_manager_install(tmp_path, test_data):
    """`pymol -cq script.pml` does not start plugins; the first line docs/viewers.md gives does, and the script then scores.
    A saved model preference that no longer loads costs one plugin line in the log, not the scan."""
    archive = build_zip.build(tmp_path / "dist")
    plugdir = tmp_path / "startup"
    plugdir.mkdir()
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "SAPROT_SCAN_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO / "core")}  # this checkout's core; the plugin comes from the installed zip
    env.pop("SAPROT_SCAN_MODEL", None)
    (tmp_path / "install.py").write_text(INSTALL_ONLY)
    installed = subprocess.run([sys.executable, str(tmp_path / "install.py"), str(archive), str(plugdir)], env=env,
                               capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert 'Plugin "saprot_scan_pymol" has been installed.' in installed.stdout, installed.stdout + installed.stderr
    (tmp_path / "config" / "saprot-scan").mkdir(parents=True)
    (tmp_path / "config" / "saprot-scan" / "config.json").write_text(json.dumps({"model": "saprot-35m"}))
    structure = test_data / "foldseek_3di" / "1l2y.cif"
    body = f"load {structure}, prot\nsaprot_scan prot\niterate prot and name CA, print('VALUE', b)\n"

    def pymol_cq(first_line: str) -> str:
        script = tmp_path / "score.pml"
        script.write_text(first_line + body)
        proc = subprocess.run([sys.executable, "-m", "pymol", "-cq", str(script)], env=env, capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    bare = pymol_cq("")  # PyMOL's own behaviour: no plugin without the GUI, so no command saprot_scan
    assert "coloured" not in bare and ("SyntaxError" in bare or "NameError" in bare), bare
    output = pymol_cq(SCRIPT_START + "\n")
    assert "coloured 20 residues of prot/A by mean score" in output, output
    assert "scored by structure scorer structure-blend (offline default)" in output
    assert output.count("the saved model preference saprot-35m cannot be used") == 1
    assert " saprot_scan: the saved model preference" in output  # one plugin line, not Python's file:line form
    assert "SyntaxError" not in output and "NameError" not in output and "Traceback" not in output
    readme = (REPO / "docs" / "viewers.md").read_text() + (REPO / "plugin_pymol" / "README.md").read_text()
    assert readme.count(SCRIPT_START) == 2, "the READMEs give the line this test runs"
