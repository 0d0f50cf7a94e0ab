"""Issue 13, item 1: how variants and residue selections are written (text only; no structure needed)."""
from __future__ import annotations

import pytest

from saprot_scan.errors import InputError
from saprot_scan.conventions.notation import Site, parse_selection, parse_variant_text, variant_text


@pytest.mark.parametrize("text,canonical", [
    ("A23G", "A23G"),
    ("a23g", "A23G"),                       # lower case is normalised, everywhere the same way
    ("G100A", "G100A"),                     # last letter is the mutant: residue 100, G -> A
    ("G100AA", "G100AA"),                   # residue 100A (insertion code A), G -> A
    ("g100aa", "G100AA"),
    ("p.Arg175His", "R175H"),
    ("p.ARG175HIS", "R175H"),
    ("p.R175H", "R175H"),
    ("p.(R175H)", "R175H"),
    ("p.(Arg175His)", "R175H"),
    ("p.Arg175=", "R175R"),                 # synonymous
    ("I44I", "I44I"),
    ("p.Gly100AAla", "G100AA"),
    ("R175H:G245S", "R175H:G245S"),
    ("R175H,G245S", "R175H:G245S"),
    ("p.[R175H;G245S]", "R175H:G245S"),
    ("p.[Arg175His;Gly245Ser]", "R175H:G245S"),
    ("M-3A", "M-3A"),                       # negative author numbers exist (tags, propeptides)
])
def test_variant_forms(text, canonical):
    assert variant_text(parse_variant_text(text)) == canonical


def test_sites_carry_insertion_codes_and_synonymy():
    (site,) = parse_variant_text("G100AA")
    assert site == Site("G", 100, "A", "A") and site.label == "100A" and not site.synonymous
    (site,) = parse_variant_text("G100A")
    assert site == Site("G", 100, "", "A") and site.label == "100"
    assert parse_variant_text("p.Ile44=")[0].synonymous and parse_variant_text("I44I")[0].synonymous


@pytest.mark.parametrize("text,message", [
    ("K1", "bad mutation 'K1'"),
    ("K1B", "bad mutation 'K1B'"),          # B is not one of the 20 amino acids
    ("1A", "bad mutation"),
    ("p.Arg175Ter", "only amino-acid substitutions"),
    ("R175*", "only amino-acid substitutions"),
    ("p.Lys23_Leu24del", "only amino-acid substitutions"),
    ("p.[R175H;G245S", "unbalanced brackets"),
    ("K1A:K1G", "mutated twice"),
    ("", "empty mutation"),
    (":", "empty mutation"),
])
def test_bad_variants(text, message):
    with pytest.raises(InputError, match=message.replace("*", r"\*").replace("[", r"\[")):
        parse_variant_text(text)


def test_selection_syntax():
    assert parse_selection("40-120,150") == [((40, ""), (120, "")), ((150, ""), (150, ""))]
    assert parse_selection("52a, 82A-82C") == [((52, "A"), (52, "A")), ((82, "A"), (82, "C"))]
    assert parse_selection("-5--1") == [((-5, ""), (-1, ""))]
    for bad in ("40-", "a-b", "1:5", ","):
        with pytest.raises(InputError):
            parse_selection(bad)
