"""A saved model preference can never break scoring: one that cannot load (no longer cached, a moved file, a
failed SHA-256 check) is skipped with one warning naming 'saprot-scan models use auto'; one that would not load
is never saved. $SAPROT_SCAN_MODEL, set on purpose, still fails loudly."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings

import pytest

import saprot_scan as ss
from saprot_scan.backends import base
from saprot_scan.cli import main
from saprot_scan.errors import ModelError, SettingsWarning

WAY_OUT = "'saprot-scan models use auto' forgets it"


@pytest.fixture
def own_settings(monkeypatch, tmp_path):
    """A config folder and model cache of this test only, and a process that has warned about nothing yet."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SAPROT_SCAN_MODEL", raising=False)
    monkeypatch.setattr(base, "_WARNED_PREFERENCES", set())
    return tmp_path


def _load_default() -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scorer = ss.load_scorer()
    return scorer, [str(w.message) for w in caught if issubclass(w.category, SettingsWarning)]


def _damaged_cache_entry(name: str, onnx_file) -> None:
    """A cached registry model whose manifest records a SHA-256 the file does not have."""
    folder = ss.models_dir() / name
    folder.mkdir(parents=True)
    shutil.copy(onnx_file, folder / "model.onnx")
    (folder / "manifest.json").write_text(json.dumps({"onnx": "model.onnx", "sha256": "0" * 64}))


@pytest.mark.parametrize("case", ["not cached", "missing file", "bad hash"])
def test_an_unusable_saved_preference_falls_back_with_one_warning(case, own_settings, tiny_onnx_model):
    spec = {"not cached": "saprot-35m", "missing file": str(own_settings / "moved.onnx"),
            "bad hash": "saprot-35m"}[case]
    if case == "bad hash":
        _damaged_cache_entry("saprot-35m", tiny_onnx_model)
        with pytest.raises(ModelError, match="SHA-256"):
            ss.load_scorer("saprot-35m")  # named on purpose: still an error
    ss.save_preference(spec)  # as an older version, or a deleted cache, left it
    scorer, said = _load_default()
    assert scorer.name == base.OFFLINE_DEFAULT and scorer.origin == "offline default"
    assert len(said) == 1 and said[0].startswith(f"the saved model preference {spec} cannot be used (")
    assert WAY_OUT in said[0] and "\n" not in said[0]
    again, said_again = _load_default()
    assert again.name == base.OFFLINE_DEFAULT and said_again == []  # one warning per process, not one per scan


def test_a_usable_preference_still_wins_and_the_environment_still_fails(own_settings, tiny_onnx_model, monkeypatch):
    ss.save_preference(str(tiny_onnx_model))
    scorer, said = _load_default()
    assert scorer.origin == "saved preference" and scorer.path == tiny_onnx_model and said == []
    monkeypatch.setenv("SAPROT_SCAN_MODEL", "saprot-35m")
    with pytest.raises(ModelError, match="not cached"):
        ss.load_scorer()


def test_viewers_and_the_cli_never_save_a_model_that_cannot_load(own_settings, tiny_onnx_model):
    from saprot_scan.viewers import save_model_choice

    with pytest.raises(ModelError, match="saprot-35m is not cached"):
        save_model_choice("saprot-35m")
    assert ss.saved_preference() is None
    assert main(["models", "use", "saprot-35m"]) == 2 and ss.saved_preference() is None
    assert save_model_choice("burial-blosum") == "burial-blosum"  # a registered kind's name is saved as typed
    assert save_model_choice(str(tiny_onnx_model)) == str(tiny_onnx_model.resolve())
    assert save_model_choice("") is None and ss.saved_preference() is None


def test_viewers_name_the_scorer_before_loading_it(own_settings):
    """The first line a viewer logs (ChimeraX) names what will score; a stale preference is named with its way out."""
    from saprot_scan.viewers import model_label

    assert model_label("burial-blosum") == "burial-blosum"
    with pytest.raises(ModelError, match="not cached"):
        model_label("saprot-35m")  # named in the command: refused before any work
    ss.save_preference("saprot-35m")
    label = model_label(None)
    assert label.startswith(f"{base.OFFLINE_DEFAULT} (offline default;") and WAY_OUT in label


def test_the_cli_scans_with_a_stale_preference_and_says_so_in_one_line(own_settings, example_structure, capsys):
    env = dict(os.environ, SAPROT_SCAN_THREADS="1")
    env.pop("SAPROT_SCAN_DEBUG", None)
    ss.save_preference("saprot-35m")
    assert main(["models", "list"]) == 0
    line = [text for text in capsys.readouterr().out.splitlines() if text.startswith("# default:")][0]
    assert line.startswith(f"# default: {base.OFFLINE_DEFAULT} (offline default;") and WAY_OUT in line
    out = own_settings / "scores.csv"
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", "scan", str(example_structure), "--csv", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warned = [text for text in proc.stderr.splitlines() if "saved model preference" in text]
    assert warned == [f"saprot-scan: warning: the saved model preference saprot-35m cannot be used (model "
                      f"saprot-35m is not cached; run: saprot-scan models fetch saprot-35m); scoring with the "
                      f"default instead. {WAY_OUT} (or pick '(automatic)' in a viewer's model list)"]
    assert out.read_text().startswith("chain,position,")
