"""The plugin's Qt dialog on Qt's offscreen platform: built, filled in, clicked, grabbed to PNG.

Without PyMOL's GUI the commands the dialog calls run to completion before returning, so each
click can be checked straight away (under the GUI the same calls run in the background).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymol", reason="pymol-open-source is not installed")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists
try:
    from pymol.Qt import QtWidgets
except ImportError:
    pytest.skip("no Qt binding for PyMOL (plugin_pymol/requirements-test.txt)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
try:
    import saprot_scan_pymol
except ImportError:
    sys.path.insert(0, str(REPO / "plugin_pymol"))
    import saprot_scan_pymol

from pymol import cmd  # noqa: E402
from saprot_scan.viewers import MODEL_POOL  # noqa: E402
from saprot_scan_pymol import dialog, scanning, settings  # noqa: E402
from saprot_scan_pymol.jobs import RUNNER  # noqa: E402
from saprot_scan_pymol.store import STORE  # noqa: E402

ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def qt_pm(monkeypatch, tmp_path, tiny_onnx_model, test_data):
    if QtWidgets.QApplication.instance() is None and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        pytest.skip("a Qt application on another platform already exists")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["pytest"])
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SAPROT_SCAN_MODEL", raising=False)
    saprot_scan_pymol.__init_plugin__()
    RUNNER.wait(120)
    cmd.reinitialize()
    STORE.clear()
    MODEL_POOL.clear()
    cmd.load(str(test_data / "foldseek_3di" / "1l2y.cif"))
    yield app
    RUNNER.wait(120)
    cmd.reinitialize()
    STORE.clear()
    dialog._DIALOG = None


def colours_and_b():
    rows = []
    cmd.iterate("all", "rows.append((color, b))", space={"rows": rows})
    return rows


def test_dialog_scores_writes_outputs_and_remembers_settings(qt_pm, tmp_path, tiny_onnx_model, test_data):
    from saprot_scan.pipeline import scan_chain
    from saprot_scan.encoding.structure import read_structure

    dlg = dialog.build_dialog()
    dlg.show()
    before = colours_and_b()
    dlg.selection.setText("1l2y")
    dlg.set_model_spec(str(tiny_onnx_model))
    dlg.method.setCurrentText("wt")
    dlg.summary.setCurrentText("min")
    dlg.palette.setCurrentText("brown_white_teal")
    dlg.csv.setText(str(tmp_path / "scores.csv"))
    dlg.heatmap.setText(str(tmp_path / "heatmap.png"))
    qt_pm.processEvents()

    dlg.score_button.click()
    qt_pm.processEvents()
    assert RUNNER.last_outcome in ("", "done")
    assert [key.label for key in STORE.scores] == ["1l2y/A"]
    expected = scan_chain(read_structure(test_data / "foldseek_3di" / "1l2y.cif")[0],
                          model=str(tiny_onnx_model), method="wt", use_cache=False)
    painted = [STORE.painted[("1l2y", "A", rid.label)] for rid in expected.residue_ids]
    np.testing.assert_allclose(painted, expected.summary("min"), atol=1e-6)
    assert STORE.palette == "brown_white_teal"
    assert (tmp_path / "scores.csv").read_text().startswith("chain,position,residue,wt,mt,mutant,score")
    assert (tmp_path / "heatmap.png").stat().st_size > 1000
    assert "wrote" in dlg.status.text()
    assert dlg.progress.value() == 100
    assert colours_and_b() != before

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "pymol_dialog.png"
    assert dlg.grab().save(str(shot))
    assert shot.stat().st_size > 2000

    dlg.summary.setCurrentText("max")
    dlg.recolour_button.click()
    np.testing.assert_allclose([STORE.painted[("1l2y", "A", r.label)] for r in expected.residue_ids],
                               expected.summary("max"), atol=1e-6)
    dlg.restore_button.click()
    assert colours_and_b() == before
    dlg.close()

    saved = json.loads(settings.settings_file().read_text())
    assert saved["method"] == "wt" and saved["summary"] == "max" and saved["model"] == str(tiny_onnx_model)
    again = dialog.build_dialog()  # a new PyMOL session reads the same file
    assert again.method.currentText() == "wt"
    assert again.palette.currentText() == "brown_white_teal"
    assert again.model_spec() == str(tiny_onnx_model)
    assert again.csv.text() == str(tmp_path / "scores.csv")
    again.close()


def test_dialog_bad_input_shows_message_and_changes_nothing(qt_pm, tiny_onnx_model):
    dlg = dialog.build_dialog()
    before = colours_and_b()
    dlg.selection.setText("resn HOH")
    dlg.set_model_spec(str(tiny_onnx_model))
    dlg.score_button.click()
    assert "is empty" in dlg.status.text()
    dlg.selection.setText("1l2y")
    dlg.set_model_spec("/nonexistent/model.onnx")
    dlg.score_button.click()
    assert "does not exist" in dlg.status.text()
    assert colours_and_b() == before and not STORE.scores
    dlg.close()


def test_dialog_lists_models_and_exports_a_checkpoint(qt_pm, tmp_path, tiny_hf_checkpoint):
    dlg = dialog.build_dialog()
    specs = [dlg.model.itemData(i) for i in range(dlg.model.count())]
    assert specs[:2] == ["", "structure-blend"]  # automatic, then the offline default scorer
    assert {"burial-blosum", "learned-structure"} <= set(specs)  # the blend's parts stay options
    assert "default" in specs and "saprot-35m" in specs and "saprot-650m" in specs
    target = tmp_path / "exported.onnx"
    dlg.export_to(str(tiny_hf_checkpoint), str(target))
    helper = dlg._helper  # its stage lines, whatever the status line happened to show when polled
    end = time.monotonic() + 300
    shown = set()
    while dlg._helper is not None and time.monotonic() < end:
        qt_pm.processEvents()
        time.sleep(0.1)
        dlg.poll()
        shown.add(dlg.status.text())
    assert target.is_file(), dlg.status.text()
    stages = [line for line in shown if line.startswith(f"exporting {tiny_hf_checkpoint}: ")]
    assert stages, shown  # the export's stage lines reach the status line while it runs
    assert dlg.model_spec() == str(target)
    assert "done" in dlg.status.text()
    # issue 25: on this machine (no CUDA GPU) Export also makes the checked int8 copy, which CPU scans use
    assert any("int8 copy" in line for line in helper.lines), helper.lines
    assert (tmp_path / "exported.int8.onnx").is_file()
    from saprot_scan.backends.onnx import load_model

    assert load_model(str(target), device="cpu").precision == "int8"
    dlg.close()


def test_dialog_export_of_a_crafted_checkpoint_reports_one_line(qt_pm, tmp_path, tiny_hf_checkpoint):
    """Issue 27 item 1: the Export button runs the checkpoint reader in PyMOL's own process; a tensor whose strides
    reach outside its storage killed PyMOL with SIGSEGV. It must end in one line on the status, no file."""
    pytest.importorskip("torch", reason="crafting the checkpoint needs torch")
    from support.crafted_checkpoints import crafted_checkpoint, load_state, strided_embedding

    folder = crafted_checkpoint(tmp_path / "crafted", tiny_hf_checkpoint, load_state(tiny_hf_checkpoint),
                                strided_embedding)
    dlg = dialog.build_dialog()
    target = tmp_path / "exported.onnx"
    dlg.export_to(str(folder), str(target))
    end = time.monotonic() + 300
    while dlg._helper is not None and time.monotonic() < end:
        qt_pm.processEvents()
        time.sleep(0.1)
        dlg.poll()
    text = dlg.status.text()
    assert "pytorch_model.bin: refused" in text and "\n" not in text, text
    assert not target.exists()
    dlg.close()


def test_open_dialog_is_one_window(qt_pm):
    first = dialog.open_dialog()
    assert dialog.open_dialog() is first
    assert first.isVisible()
    first.close()


def test_dialog_fetch_without_hub_access_reports_one_line(qt_pm, monkeypatch):
    pytest.importorskip("huggingface_hub", reason="fetching needs the fetch extra")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # this machine cannot reach the hub anyway
    dlg = dialog.build_dialog()
    dlg.set_model_spec("saprot-35m")
    dlg.fetch_model.click()
    end = time.monotonic() + 60
    while dlg._helper is not None and time.monotonic() < end:
        qt_pm.processEvents()
        time.sleep(0.05)
        dlg.poll()
    assert "fetching saprot-35m failed" in dlg.status.text()
    assert "HF_HUB_OFFLINE" in dlg.status.text()
    assert "\n" not in dlg.status.text()
    dlg.close()


def test_closing_with_an_uncached_model_keeps_the_default(qt_pm, capsys):
    """Choosing 'saprot-35m (not cached)' and closing must not make every later scan fail (CLI and viewers)."""
    from saprot_scan import saved_preference

    dlg = dialog.build_dialog()
    dlg.set_model_spec("saprot-35m")
    dlg.close()
    assert saved_preference() is None
    assert "saprot-35m is not cached" in capsys.readouterr().out
    assert json.loads((settings.settings_file()).read_text())["model"] == "saprot-35m"  # the dialog's own field


def test_fetch_without_the_fetch_extra_names_the_extra(qt_pm, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # Python's own "not installed"
    dlg = dialog.build_dialog()
    dlg.set_model_spec("saprot-35m")
    dlg.fetch_model.click()
    assert dlg._helper is None  # nothing started
    assert dlg.status.text() == ("Fetch needs the fetch extra: pip install 'saprot-scan[fetch]' "
                                 "(missing: huggingface_hub)")
    dlg.close()


def test_dialog_shows_the_colouring_in_use_and_runs_suggest_design_and_fitted(qt_pm, tiny_onnx_model, tmp_path):
    """The boxes follow a recolour typed on the command line; Suggest, Design and the fitted-model field call
    the same commands as the command line (saprot_suggest, saprot_design, saprot_scan fitted=)."""
    from saprot_scan_pymol.scan_commands import saprot_color, saprot_scan

    saprot_scan("1l2y", str(tiny_onnx_model), "wt", background=0)
    dlg = dialog.build_dialog()
    dlg.poll()
    assert dlg.summary.currentText() == "mean"
    saprot_color("min", "blue_white_red")
    dlg.poll()
    assert (dlg.summary.currentText(), dlg.palette.currentText()) == ("min", "blue_white_red")
    dlg.summary.setCurrentText("P")  # a choice being made is not undone by the next poll
    dlg.poll()
    assert dlg.summary.currentText() == "P"

    dlg.suggest_button.click()
    assert "suggestions listed in the log" in dlg.status.text(), dlg.status.text()
    dlg.selection.setText("1l2y")
    dlg.set_model_spec(str(tiny_onnx_model))
    dlg.design_button.click()
    assert dlg.status.text().startswith("designed"), dlg.status.text()
    assert len(STORE.native) == 20 and all(0.0 < p < 1.0 for p in STORE.native.values())

    dlg.fitted.setText(str(tmp_path / "no-such-fit.json"))
    dlg.score_button.click()
    assert "no-such-fit.json" in dlg.status.text()  # passed on as saprot_scan fitted=, which reads it
    dlg.close()
    assert json.loads(settings.settings_file().read_text())["fitted"] == str(tmp_path / "no-such-fit.json")


def test_dialog_fetch_makes_the_int8_copy_on_a_cpu_machine(qt_pm, monkeypatch, tmp_path, tiny_hf_checkpoint):
    """Issue 25: the Fetch button (real dialog, loopback hub stand-in) makes the checked int8 copy where no
    CUDA GPU answers, and says so in its stage lines (PyMOL's log and the status line)."""
    pytest.importorskip("huggingface_hub", reason="fetching needs the fetch extra")
    from huggingface_hub import constants

    from saprot_scan.models.fast_copy import cuda_gpu_here
    from saprot_scan.models.registry import registry
    from support.fake_hub import FakeHub

    if cuda_gpu_here():
        pytest.skip("a CUDA GPU answers here: the default copy is fp16")
    entry = registry()["saprot-35m"]
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    with FakeHub.from_folder(entry["repo"], entry["revision"], tiny_hf_checkpoint, lifetime=300) as hub:
        # huggingface_hub reads HF_ENDPOINT once, at import: point its two derived settings at the stand-in
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            hub.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        dlg = dialog.build_dialog()
        dlg.set_model_spec("saprot-35m")
        dlg.fetch_model.click()
        helper = dlg._helper
        end = time.monotonic() + 300
        while dlg._helper is not None and time.monotonic() < end:
            qt_pm.processEvents()
            time.sleep(0.05)
            dlg.poll()
    assert helper.error is None, helper.error
    assert any(line.startswith("no CUDA GPU here: making the checked int8 copy") for line in helper.lines)
    assert any(line.startswith("int8 copy kept: per-position Spearman mean") for line in helper.lines)
    assert (tmp_path / "cache" / "models" / "saprot-35m" / "saprot-35m.int8.onnx").is_file()
    assert dlg.status.text() == "fetching saprot-35m: done; model set to saprot-35m"
    dlg.close()


def test_dialog_places_known_variants_and_switches_partner_context(qt_pm, tmp_path, test_data):
    """The dialog's "Known variants" files are placed beside the scores after Score (saprot_known: selections,
    the agreement in the log, the CSV's known columns); "Partner chains" is saprot_scan partners=on|off."""
    import csv as csv_module

    from support.data import EXAMPLE_STRUCTURE
    from support.known_files import build_files

    (tmp_path / "files").mkdir()
    json_path, am_path, _ = build_files(tmp_path / "files")
    cmd.load(str(EXAMPLE_STRUCTURE), "lyz")
    dlg = dialog.build_dialog()
    assert dlg.partners.isChecked()  # the default, as the command line's --partner-context on
    dlg.selection.setText("lyz")
    dlg.set_model_spec("burial-blosum")
    dlg.known.setText(f"{json_path} {am_path}")
    dlg.csv.setText(str(tmp_path / "scores.csv"))
    dlg.score_button.click()
    qt_pm.processEvents()
    RUNNER.wait(120)
    dlg.poll()
    (entry,) = [e for e in STORE.scores.values() if e.key.obj == "lyz"]
    assert entry.result.known and "ROC AUC" in entry.result.known["agreement"]["line"]
    assert "saprot_known_pathogenic" in cmd.get_names("selections")
    with open(tmp_path / "scores.csv") as handle:
        rows = list(csv_module.DictReader(handle))
    assert "clinical_significance" in rows[0] and any(r["clinical_significance"] for r in rows)

    cmd.load(str(test_data / "foldseek_3di" / "1igy.cif"), "igy")
    dlg.known.setText("")
    dlg.csv.setText("")
    dlg.selection.setText("igy and chain A")
    for checked, context in ((False, "off"), (True, "on")):
        dlg.partners.setChecked(checked)
        dlg.score_button.click()
        RUNNER.wait(120)
        dlg.poll()
        (entry,) = [e for e in STORE.scores.values() if e.key.obj == "igy"]
        assert entry.result.partner_context == context
    dlg.close()
    saved = json.loads(settings.settings_file().read_text())
    assert saved["partners"] is True and saved["known"] == ""
