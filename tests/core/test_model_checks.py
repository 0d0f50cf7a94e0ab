"""Issue 13, item 3: real checkpoints, not only random tiny ones. The export check is judged on scale
(logit difference relative to the logit scale, and the log-probability differences users see); vocab.txt must
be SaProt's 446 tokens in SaProt's order; ``models import`` caches a checkpoint downloaded elsewhere (folder or
zip); fetch without the fetch extra names the extra; an unreachable hub is exit status 1 (tests/core/test_hub.py)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from support.data import structure

torch = pytest.importorskip("torch", reason="export needs the test extra (torch)")


def _cli(args, cache_root: Path, **env) -> subprocess.CompletedProcess:
    full = dict(os.environ, SAPROT_SCAN_CACHE=str(cache_root), SAPROT_SCAN_THREADS="1", HF_HUB_OFFLINE="1", **env)
    full.pop("SAPROT_SCAN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "saprot_scan", *map(str, args)], capture_output=True, text=True,
                          env=full, timeout=600)


def _one_error_line(proc, status: int = 2) -> str:
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("saprot-scan: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def realistic_checkpoint(tmp_path_factory) -> Path:
    """A small SaProt-format model with realistic magnitudes: weights drawn at std 0.5 and, in every layer, two
    outlier channels (LayerNorm gain 25, residual bias 40), as trained ESM-2-style models carry."""
    from saprot_scan.models.architectures import random_checkpoint
    from support.core_reference import add_outlier_channels

    out = tmp_path_factory.mktemp("realistic") / "hf"
    random_checkpoint(out, dict(num_hidden_layers=4, hidden_size=96, num_attention_heads=4, intermediate_size=192),
                      seed=1)
    add_outlier_channels(out)
    return out


def test_realistic_magnitudes_pass_the_scale_aware_check(realistic_checkpoint, tmp_path):
    proc = _cli(["models", "export", realistic_checkpoint, "--out", tmp_path / "m.onnx"], tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"max \|logit - reference\| = (\S+) \((\S+) of the logit scale (\S+)\); "
                      r"max log-probability-difference error = (\S+)", proc.stdout)
    absolute, relative, scale, score = (float(match.group(k)) for k in range(1, 5))
    assert absolute > 1e-4  # the old absolute check (1e-4) refused this correct export
    assert scale > 5 and relative <= 1e-3 and score <= 2e-2
    assert (tmp_path / "m.onnx").is_file()


def test_agreement_measures_scores_users_see(tiny_hf_checkpoint):
    """On real logits of the test model: a shift shared by all 21 tokens of every amino acid changes no score;
    raising one amino acid's tokens by d changes log P(a) - log P(b) by at most d, and the check sees exactly
    that; a shift that breaks scores is refused."""
    from transformers import EsmForMaskedLM

    from saprot_scan.encoding.tokens import aa_token_ids
    from saprot_scan.errors import ModelError
    from saprot_scan.models.checks import agreement, check_agreement
    from saprot_scan.models.export import sample_batch
    from support.core_reference import torch_logits

    model = EsmForMaskedLM.from_pretrained(tiny_hf_checkpoint, attn_implementation="eager").eval()
    ids, mask = sample_batch()
    want = torch_logits(model, ids, mask)[mask.astype(bool)].astype(np.float64)
    same = agreement(want, want)
    assert same["max_abs_logit_diff"] == 0.0 and same["max_score_diff"] == 0.0
    shifted = agreement(want, want + 0.003)
    assert shifted["max_abs_logit_diff"] == pytest.approx(0.003) and shifted["max_score_diff"] < 1e-9
    check_agreement(shifted, "fp32")
    broken = want.copy()
    broken[:, aa_token_ids("W")] += 0.5
    report = agreement(want, broken)
    assert 0.3 < report["max_score_diff"] <= 0.5 + 1e-9
    with pytest.raises(ModelError, match="disagrees with the reference evaluation"):
        check_agreement(report, "fp32")


def _copy_with_vocab(source: Path, dest: Path, tokens: list[str] | None) -> Path:
    shutil.copytree(source, dest)
    if tokens is None:
        (dest / "vocab.txt").unlink()
    else:
        (dest / "vocab.txt").write_text("\n".join(tokens) + "\n")
    return dest


def test_vocab_must_be_saprots_in_saprots_order(tiny_hf_checkpoint, tmp_path):
    from saprot_scan.encoding.tokens import vocabulary

    vocab = vocabulary()
    swapped = vocab[:5] + [vocab[6], vocab[5]] + vocab[7:]
    esm = ["<cls>", "<pad>", "<eos>", "<unk>"] + list("LAGVSERTIDPKQNFYMHWCXBUZO.-") + ["<null_1>", "<mask>"]
    cases = [
        (swapped, "vocab.txt has SaProt's 446 tokens in another order (line 6 is 'Ay', SaProt has 'Ap')"),
        (esm, "vocab.txt is not SaProt's vocabulary (33 tokens, SaProt has 446; e.g. 'L' is not a SaProt token)"),
    ]
    for k, (tokens, message) in enumerate(cases):
        folder = _copy_with_vocab(tiny_hf_checkpoint, tmp_path / f"ckpt{k}", tokens)
        line = _one_error_line(_cli(["models", "export", folder, "--out", tmp_path / f"m{k}.onnx"], tmp_path / "c"))
        assert message in line
        line = _one_error_line(_cli(["models", "import", folder, "--name", "saprot-35m"], tmp_path / "c"))
        assert message in line
        assert not (tmp_path / f"m{k}.onnx").exists()
    missing = _copy_with_vocab(tiny_hf_checkpoint, tmp_path / "novocab", None)
    line = _one_error_line(_cli(["models", "import", missing, "--name", "saprot-35m"], tmp_path / "c"))
    assert "no vocab.txt" in line
    assert not (tmp_path / "c" / "models" / "saprot-35m").exists()


def test_import_a_zipped_checkpoint(tiny_hf_checkpoint, tmp_path):
    from saprot_scan.models.hashing import sha256_file

    cache = tmp_path / "cache"
    archive = tmp_path / "SaProt_35M_AF2.zip"
    with zipfile.ZipFile(archive, "w") as handle:  # as a browser download of a hub folder: one folder inside
        for path in sorted(tiny_hf_checkpoint.iterdir()):
            handle.write(path, f"SaProt_35M_AF2/{path.name}")
    line = _one_error_line(_cli(["models", "import", archive], cache))
    assert "cannot tell which SaProt model this is (2 layers, width 32); name it with --name" in line
    proc = _cli(["models", "import", archive, "--name", "saprot-35m", "--any-shape"], cache)
    assert proc.returncode == 0, proc.stderr
    folder = cache / "models" / "saprot-35m"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["revision"] == "imported from SaProt_35M_AF2.zip"
    assert manifest["files"]["model.safetensors"] == sha256_file(tiny_hf_checkpoint / "model.safetensors")
    assert manifest["relative_logit_diff"] <= 1e-3 and manifest["max_score_diff"] <= 2e-2
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["saprot-35m"]  # no staging left
    listing = _cli(["models", "list"], cache)
    assert "saprot-35m\tcached" in listing.stdout
    scan = _cli(["scan", structure("1aki"), "--model", "saprot-35m", "--method", "wt",
                 "--residues", "1-3"], cache)
    assert scan.returncode == 0 and len(scan.stdout.splitlines()) == 1 + 3 * 19, scan.stderr
    assert "model saprot-35m" in scan.stderr


def test_import_refuses_a_zip_that_escapes(tmp_path, tiny_hf_checkpoint):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(tiny_hf_checkpoint / "config.json", "../config.json")
    line = _one_error_line(_cli(["models", "import", archive, "--name", "saprot-35m"], tmp_path / "cache"))
    assert "member '../config.json' points outside the archive" in line
    assert not (tmp_path / "config.json").exists()


@pytest.mark.parametrize("command, module", [(["models", "fetch", "saprot-35m"], "huggingface_hub"),
                                             (["models", "import", "x.zip"], "onnx")])
def test_without_the_fetch_extra_the_extra_is_named(command, module, tmp_path):
    """A package of the extra made unimportable in the child (a None entry in sys.modules is Python's own way
    to say "not installed"); the command names the extra to install, in one line, exit status 2. Importing
    needs no huggingface_hub (nothing is downloaded)."""
    code = (f"import sys; sys.modules[{module!r}] = None; from saprot_scan.cli import main; "
            f"sys.exit(main({command!r}))")
    env = dict(os.environ, SAPROT_SCAN_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    line = _one_error_line(proc)
    assert line == (f"saprot-scan: error: {' '.join(command[:2])} needs the fetch extra: "
                    f"pip install 'saprot-scan[fetch]' (missing: {module})")
