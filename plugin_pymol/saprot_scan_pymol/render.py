"""``python -m saprot_scan_pymol.render STRUCTURE SCORES.json OUT.png [summary]``: a ray-traced
picture of a structure coloured by a saved scan (the command line's --json output), headless, with a
colour bar (the same scale as the structure's colours) drawn under it."""
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
    scale = colour_residues(["scored"], values, palette, summary)
    cmd.orient("scored")
    out = Path(out_png)
    cmd.png(str(out), width=width, height=height, ray=1, quiet=1)
    add_colour_bar(out, scale, palette, bar_label(data, summary))
    return out


BAR_GID = "saprot-colour-bar"


def bar_label(data: dict, summary: str) -> str:
    """What the bar's numbers are, from the saved scan: the summary, the scorer's own label, the scorer."""
    labels = sorted({chain.get("score_label") or "SaProt log-ratio" for chain in data["chains"]})
    models = sorted({chain.get("model", "") for chain in data["chains"]} - {""})
    text = f"{summary} score ({'; '.join(labels)})"
    return f"{text}; {', '.join(models)}" if models else text


def add_colour_bar(png: Path, scale, palette: str, label: str) -> None:
    """Redraw ``png`` with a horizontal colour bar below the picture (matplotlib's object API, no pyplot):
    the palette over the scale's stops, with arrows where values clip to the end colours."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
    from matplotlib.cm import ScalarMappable
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from .palettes import PALETTES

    picture = imread(str(png))
    h, w = picture.shape[:2]
    dpi, bar_px = 100, max(120, h // 6)
    fig = Figure(figsize=(w / dpi, (h + bar_px) / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    total = h + bar_px
    ax = fig.add_axes([0, bar_px / total, 1, h / total])
    ax.imshow(picture, interpolation="nearest")
    ax.set_axis_off()
    cmap = LinearSegmentedColormap.from_list("saprot", list(PALETTES[palette]))
    norm = TwoSlopeNorm(vmin=scale.low, vcenter=scale.centre, vmax=scale.high)
    cax = fig.add_axes([0.2, 0.55 * bar_px / total, 0.6, 0.18 * bar_px / total])
    cax.set_gid(BAR_GID)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal", extend="both")
    bar.set_ticks(list(scale.stops()), labels=[f"{t:g}".replace("-", "\u2212") for t in scale.stops()])
    bar.set_label(label, fontsize=10)
    bar.ax.tick_params(labelsize=9)
    fig.savefig(str(png), dpi=dpi, facecolor="white")


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print(render(*argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
