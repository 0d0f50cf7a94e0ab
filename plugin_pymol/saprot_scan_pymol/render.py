"""``python -m saprot_scan_pymol.render STRUCTURE SCORES.json OUT.png [summary]``: a ray-traced
picture of a structure coloured by a saved scan (the command line's --json output), headless."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def render(structure: str, scores_json: str, out_png: str, summary: str = "mean",
           palette: str = "red_white_blue", width: int = 1200, height: int = 900) -> Path:
    from pymol import cmd

    from .painting import colour_residues

    data = json.loads(Path(scores_json).read_text())
    cmd.reinitialize()
    cmd.load(structure, "scored")
    values = {}
    for chain in data["chains"]:
        for residue in chain["residues"]:
            value = residue.get(summary) if summary in ("mean", "min", "max") else \
                residue["scores"][data.get("amino_acids", chain["amino_acids"]).index(summary)]
            if value is not None:
                values[("scored", chain["chain"], residue["residue"])] = float(value)
    if not values:
        raise SystemExit(f"{scores_json}: no scores to draw")
    cmd.hide("everything")
    cmd.show("cartoon", "polymer.protein")
    cmd.show("sticks", "organic")
    cmd.set("cartoon_transparency", 0)
    cmd.bg_color("white")
    colour_residues(["scored"], values, palette)
    cmd.orient("scored")
    out = Path(out_png)
    cmd.png(str(out), width=width, height=height, ray=1, quiet=1)
    return out


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print(render(*argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
