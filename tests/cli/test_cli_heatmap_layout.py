"""Issue 24, items 5 and 9: heatmap layout through the real CLI. Titles stay inside the image and clear of the
colour bar and its label (fitted heatmaps have long titles), the marks above the columns sit below the title,
residue labels leave no blank band, interface residues of a complex get their own row of marks, and the
class-precision footnote quotes only the scorer drawn."""
from __future__ import annotations

import numpy as np

from saprot_scan import cli
from saprot_scan.outputs.heatmap import heatmap_figure
from saprot_scan.outputs.tables import read_json
from support.data import structure


def _boxes(fig):
    renderer = fig.canvas.get_renderer()
    titles = [t.get_window_extent(renderer) for t in fig.texts if (t.get_gid() or "").startswith("saprot-title")]
    heat = [a for a in fig.axes if (a.get_gid() or "").startswith("saprot-heatmap")]
    bar = [a for a in fig.axes if a not in heat][0]
    label = bar.yaxis.label.get_window_extent(renderer)
    return renderer, titles, heat, bar, label


def _scan_json(tmp_path, *args) -> list:
    out = tmp_path / "scan.json"
    assert cli.main(["scan", *args, "--quiet", "--json", str(out), "--heatmap", str(tmp_path / "h.png")]) == 0
    assert (tmp_path / "h.png").stat().st_size > 0
    return read_json(out)


def test_titles_inside_the_image_and_clear_of_the_colour_bar(tmp_path):
    results = _scan_json(tmp_path, str(structure("1igy")), "--chain", "A", "--residues", "2-41")  # a narrow figure
    long_name = results[0]
    long_name.model_name = "structure-blend + fitted my_very_long_assay_name_from_a_deep_mutational_scan.json"
    long_name.meaning = type(long_name.meaning)(label="fitted score (predicted assay value minus the wild type's)",
                                                unit="assay units", zero="the wild type", vs_wild_type=True)
    fig = heatmap_figure([long_name])
    renderer, titles, heat, bar, label = _boxes(fig)
    figure_box = fig.bbox
    for box in titles:
        assert box.x0 >= 0 and box.x1 <= figure_box.x1 and box.y1 <= figure_box.y1
        assert not box.overlaps(label) and box.x1 < bar.get_window_extent(renderer).x0
    assert label.y1 <= bar.get_window_extent(renderer).y1 + 2 and label.x1 <= figure_box.x1


def test_marks_sit_below_the_title_and_labels_leave_no_band(tmp_path):
    results = _scan_json(tmp_path, str(structure("1igy")), "--chain", "A")
    assert any(results[0].interface)
    fig = heatmap_figure(results)
    renderer, titles, heat, _, _ = _boxes(fig)
    marks = [c for a in heat for c in a.collections if "saprot-interface" in (c.get_gid() or "")]
    assert marks  # interface residues get their own row of marks
    top_of_marks = max(c.get_window_extent(renderer).y1 for c in marks)
    assert top_of_marks < min(t.y0 for t in titles)
    lowest_label = min(t.get_window_extent(renderer).y0 for a in heat for t in a.get_xticklabels())
    footer = [t for t in fig.texts if t.get_text().startswith("Classes by percentile")][0]
    gap_inches = (lowest_label - footer.get_window_extent(renderer).y1) / fig.dpi
    assert gap_inches < 0.6, gap_inches  # no blank band between the residue labels and the footer


def test_footnote_quotes_only_the_scorer_drawn(tmp_path, tiny_onnx_model):
    results = _scan_json(tmp_path, str(structure("1aki")), "--model", str(tiny_onnx_model))
    fig = heatmap_figure(results)
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "burial-blosum" not in footer and "structure-blend" not in footer
    assert "not measured for" in footer
    blend = _scan_json(tmp_path, str(structure("1aki")), "--model", "structure-blend")
    text = " ".join(t.get_text() for t in heatmap_figure(blend).texts)
    assert "structure-blend" in text and "burial-blosum 5" not in text
    np.testing.assert_equal(len(fig.axes) >= 2, True)
