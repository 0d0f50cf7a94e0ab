"""Issue 10, items 1, 2 and 4: the public facade, the scorer protocol a non-ONNX scorer plugs into, one way
to save and load a result, writers chosen by suffix, and the saved model preference shared by every front end."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import saprot_scan as ss
from saprot_scan.backends import base
from saprot_scan.cli import main
from saprot_scan.scoring.meaning import UNDECLARED


def test_every_public_name_resolves_and_importing_costs_only_the_standard_library():
    for name in ss.__all__:
        assert getattr(ss, name) is not None, name
    probe = ("import sys, saprot_scan, saprot_scan.cli, saprot_scan.backends, saprot_scan.viewers; "
             "print(sorted(m for m in ('onnxruntime', 'biotite', 'matplotlib', 'torch', 'transformers', 'onnx')"
             " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class HydrophobicityScorer:
    """A complete scorer without a language model: a substitution's score is the change in Kyte-Doolittle
    hydropathy, negated (it stands for any structure-based scorer registered beside the ONNX models)."""

    KD = dict(zip("ACDEFGHIKLMNPQRSTVWY", [1.8, 2.5, -3.5, -3.5, 2.8, -0.4, -3.2, 4.5, -3.9, 3.8, 1.9, -3.5, -1.6,
                                          -3.5, -4.5, -0.8, -0.7, 4.2, -0.9, -1.3]))
    name, sha256, precision, device, origin = "hydropathy", "kd-1", "fp64", "cpu", ""

    def describe(self) -> str:
        return "scorer hydropathy (Kyte-Doolittle)"

    def cache_identity(self):
        return (self.name, self.sha256)

    def check(self) -> None:
        pass

    def scan(self, chain, tokens, method, batch_size=None, progress=None, cancel=None) -> np.ndarray:
        scores = np.full((len(tokens.aa), 20), np.nan)
        for i, wt in enumerate(tokens.aa):
            if wt in self.KD:
                scores[i] = [-abs(self.KD[mt] - self.KD[wt]) for mt in ss.AMINO_ACIDS]
        if progress is not None:
            progress(len(tokens.aa), len(tokens.aa))
        return scores

    def score_variants(self, chain, tokens, variants, batch_size=None) -> np.ndarray:
        return np.array([sum(-abs(self.KD[s.mt] - self.KD[s.wt]) for s in sites) for sites in variants])


@pytest.fixture
def hydropathy_kind():
    base.register_scorer("hydropathy", lambda spec, device, precision: HydrophobicityScorer(), names=("kd",))
    with pytest.raises(ss.ModelError, match=r"use one of structure-blend, blend, burial-blosum, hydropathy, kd, learned, "
                                           r"learned-structure, structure, saprot-scan-def"):
        ss.load_scorer("no-such-scorer")  # the message lists every registered kind's names
    yield
    base.unregister_scorer("hydropathy")
    assert "kd" not in base.scorer_kinds().get("hydropathy", ())


def test_a_registered_scorer_kind_runs_through_the_pipeline_cache_and_cli(hydropathy_kind, example_structure,
                                                                          tmp_path, capsys):
    scorer = ss.load_scorer("kd")
    assert isinstance(scorer, ss.Scorer) and ss.load_scorer("hydropathy:anything").name == "hydropathy"
    (chain,) = ss.read_structure(example_structure)
    first = ss.scan_chain(chain, scorer)
    again = ss.scan_chain(chain, scorer)
    assert again.notes == ["scores read from the result cache"]
    np.testing.assert_array_equal(first.scores, again.scores)
    assert first.model_name == "hydropathy" and first.scores[0, ss.AMINO_ACIDS.index(chain.sequence[0])] == 0
    wt = chain.sequence[0]
    mutant = f"{wt}1{'A' if wt != 'A' else 'G'}"
    (score,) = ss.score_mutations(chain, [mutant], scorer)
    assert score == pytest.approx(first.scores[0, ss.AMINO_ACIDS.index(mutant[-1])])
    assert main(["scan", str(example_structure), "--model", "kd", "--csv", str(tmp_path / "kd.csv")]) == 0
    assert "scoring with scorer hydropathy" in capsys.readouterr().err
    assert (tmp_path / "kd.csv").read_text().startswith("chain,position,residue,wt,mt,mutant,score,percentile,class\n")
    # a scorer that declares no meaning is never taken to compare with the wild type
    assert first.meaning == UNDECLARED and not first.meaning.vs_wild_type


def test_saved_preference_from_the_cli_is_the_default_everywhere(tiny_onnx_model, example_structure, capsys,
                                                                  monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert ss.load_scorer().origin == "offline default"
    assert main(["models", "use", "no-such-model"]) == 2  # checked before it is saved
    assert ss.saved_preference() is None
    assert main(["models", "use", str(tiny_onnx_model)]) == 0
    assert ss.saved_preference() == str(tiny_onnx_model.resolve())
    chosen = ss.load_scorer()
    assert chosen.origin == "saved preference" and chosen.path == tiny_onnx_model.resolve()
    main(["models", "list"])
    assert f"# default: {tiny_onnx_model.stem} (saved preference)" in capsys.readouterr().out
    from saprot_scan.viewers import model_choices

    assert model_choices()[0] == ("(automatic)", "")
    assert main(["models", "use", "auto"]) == 0
    assert ss.saved_preference() is None and ss.load_scorer().origin == "offline default"


def test_a_result_saves_and_loads_one_way(tiny_onnx_model, example_structure, tmp_path):
    (chain,) = ss.read_structure(example_structure)
    result = ss.scan_chain(chain, str(tiny_onnx_model), method="wt", use_cache=False)
    exact = ss.ScanResult.from_dict(json.loads(json.dumps(result.to_dict(rounded=False))))
    np.testing.assert_array_equal(exact.scores, result.scores)
    assert exact.residue_ids == result.residue_ids and exact.wt == result.wt and exact.struct == result.struct
    assert (exact.model_sha256, exact.method, exact.windows) == (result.model_sha256, "wt", 1)
    for suffix in (".json", ".csv", ".svg"):
        assert ss.write_results([result], tmp_path / f"out{suffix}").is_file()
    (loaded,) = ss.read_json(tmp_path / "out.json")
    np.testing.assert_allclose(loaded.scores, result.scores, atol=5e-7)
    with pytest.raises(ss.InputError):
        ss.write_results([result], tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()
