"""Issue 24, item 9: small things a new user trips over on the command line, each checked through the real CLI."""
from __future__ import annotations

import json

import pytest

from saprot_scan import cli


def test_tokens_print_3di_in_lower_case_like_the_json(example_structure, tmp_path, capsys):
    """SaProt's 3Di letters are lower case; the tokens table and the JSON's structure_3di agree."""
    assert cli.main(["tokens", str(example_structure), "--3di", "embedded"]) == 0
    header, row = capsys.readouterr().out.strip().split("\n")[:2]
    threedi = dict(zip(header.split("\t"), row.split("\t")))["3di"]
    assert threedi == threedi.lower() and threedi.strip("#")
    assert cli.main(["scan", str(example_structure), "--quiet", "--3di", "embedded", "--json",
                     str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["chains"][0]["structure_3di"] == threedi


@pytest.mark.parametrize("model", ["structure-blend", "burial-blosum", "learned-structure"])
def test_the_scorer_is_described_once_and_briefly(example_structure, tmp_path, capsys, model):
    assert cli.main(["scan", str(example_structure), "--model", model, "--csv", str(tmp_path / "s.csv")]) == 0
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("scoring with")]
    assert len(line) <= 160 and "not SaProt" in line, line
    assert err.count("not SaProt") == 1


def test_registry_notes_describe_the_tensor_only_reader():
    from saprot_scan.models.registry import registry

    notes = " ".join(str(entry.get("revision_note", "")) for entry in registry().values())
    assert "torch.load" not in notes and "tensor-only reader" in notes
