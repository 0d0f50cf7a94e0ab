"""Heatmap files: real PNG/SVG/PDF output, layout that stays readable for long chains, colours of known
cells read back from the written PNG, and all-or-nothing writing."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from saprot_scan.errors import InputError
from saprot_scan.outputs.heatmap import COLORMAP, MISSING_COLOR, cell_pixel, heatmap_figure, save_heatmap
from saprot_scan.results import ScanResult
from saprot_scan.encoding.structure import ResidueId
from saprot_scan.encoding.tokens import AMINO_ACIDS


def make_result(length: int, chain: str = "A", seed: int = 0, first: int = 1) -> ScanResult:
    """A scan with scores in [-1, 1], wild type 0, residue 11 carrying insertion code A."""
    rng = np.random.default_rng(seed)
    wt = "".join(rng.choice(list(AMINO_ACIDS), length))
    scores = rng.uniform(-1.0, 1.0, (length, len(AMINO_ACIDS)))
    for i, aa in enumerate(wt):
        scores[i, AMINO_ACIDS.index(aa)] = 0.0
    ids = tuple(ResidueId(chain, first + i, "A" if i == 10 else "") for i in range(length))
    return ScanResult(chain, ids, wt, scores, "masked", "tiny-test-model")


def _other_aa(wt: str, skip: int = 0) -> str:
    return [aa for aa in AMINO_ACIDS if aa != wt][skip]


def _rgb_at(png, xy) -> np.ndarray:
    x, y = xy
    return png[y, x, :3]


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_writes_each_format(tmp_path, suffix, magic):
    path = tmp_path / f"scan{suffix}"
    assert save_heatmap([make_result(40)], path) == path
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 5_000
    if suffix == ".svg":
        assert b"<svg" in data[:2000]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left beside it


def test_known_cells_have_the_expected_colours(tmp_path):
    result = make_result(300)
    k = 123
    bad, good, neutral = _other_aa(result.wt[k], 0), _other_aa(result.wt[k], 1), _other_aa(result.wt[k], 2)
    result.scores[k, AMINO_ACIDS.index(bad)] = -30.0   # far below everything else: the deepest red
    result.scores[k, AMINO_ACIDS.index(good)] = 30.0   # far above: the deepest blue
    result.scores[k, AMINO_ACIDS.index(neutral)] = 0.0
    unknown = 200
    result.wt = result.wt[:unknown] + "X" + result.wt[unknown + 1:]
    result.scores[unknown] = np.nan
    path = tmp_path / "cells.png"
    save_heatmap([result], path)
    png = imread(path)
    fig = heatmap_figure([result])
    assert png.shape[:2] == (int(fig.bbox.height), int(fig.bbox.width))

    cmap = colormaps[COLORMAP]
    np.testing.assert_allclose(_rgb_at(png, cell_pixel(fig, "A", k, bad)), cmap(0.0)[:3], atol=0.02)
    np.testing.assert_allclose(_rgb_at(png, cell_pixel(fig, "A", k, good)), cmap(1.0)[:3], atol=0.02)
    np.testing.assert_allclose(_rgb_at(png, cell_pixel(fig, "A", k, neutral)), cmap(0.5)[:3], atol=0.02)
    np.testing.assert_allclose(_rgb_at(png, cell_pixel(fig, "A", unknown, "A")), to_rgb(MISSING_COLOR),
                               atol=0.02)
    # The wild-type cell carries a black mark.
    assert _rgb_at(png, cell_pixel(fig, "A", k, result.wt[k])).max() < 0.2
    # Red means intolerant: the very negative cell is red-dominant, the very positive one blue-dominant.
    red, blue = _rgb_at(png, cell_pixel(fig, "A", k, bad)), _rgb_at(png, cell_pixel(fig, "A", k, good))
    assert red[0] > red[2] and blue[2] > blue[0]


def test_long_chains_wrap_into_rows_with_the_same_cell_size(tmp_path):
    sizes, cells = {}, {}
    for length in (300, 1000):
        path = tmp_path / f"h{length}.png"
        save_heatmap([make_result(length)], path)
        sizes[length] = imread(path).shape[:2]
        fig = heatmap_figure([make_result(length)])
        (x0, _), (x1, _) = cell_pixel(fig, "A", 0, "A"), cell_pixel(fig, "A", 1, "A")
        cells[length] = x1 - x0
        rows = [ax for ax in fig.axes if (ax.get_gid() or "").startswith("saprot-heatmap:A:")]
        assert all(ax.get_xlim()[1] - ax.get_xlim()[0] <= 130 for ax in rows)
        labels = [t.get_text() for ax in rows for t in ax.get_xticklabels()]
        assert len(labels) == length and labels[10] == f"{make_result(length).wt[10]}11A"
    (h300, w300), (h1000, w1000) = sizes[300], sizes[1000]
    assert h1000 > 2 * h300            # more rows, not smaller cells
    assert w1000 <= 1.35 * w300 and w1000 < 4000
    assert cells[300] == cells[1000] >= 15  # every residue keeps a column wide enough for its label


def test_one_panel_group_per_chain():
    fig = heatmap_figure([make_result(150, "A"), make_result(40, "B", seed=1, first=300)])
    gids = [ax.get_gid() for ax in fig.axes if (ax.get_gid() or "").startswith("saprot-heatmap:")]
    assert gids == ["saprot-heatmap:A:0", "saprot-heatmap:A:75", "saprot-heatmap:B:0"]
    texts = [t.get_text() for t in fig.texts]
    assert any(t.startswith("Chain A") and "masked marginal" in t and "tiny-test-model" in t for t in texts)
    assert any(t.startswith("Chain B") for t in texts)
    colorbar_labels = [ax.get_ylabel() for ax in fig.axes]
    assert "SaProt log-ratio log P(mt)/P(wt)" in colorbar_labels


def test_bad_suffix_and_unwritable_paths_fail_cleanly(tmp_path):
    result = make_result(20)
    with pytest.raises(InputError, match=r"\.png, \.svg or \.pdf"):
        save_heatmap([result], tmp_path / "scan.jpg")
    with pytest.raises(InputError, match="does not exist"):
        save_heatmap([result], tmp_path / "missing" / "scan.png")
    with pytest.raises(InputError, match="is a directory"):
        (tmp_path / "adir.png").mkdir()
        save_heatmap([result], tmp_path / "adir.png")
    with pytest.raises(InputError, match="no scan results"):
        save_heatmap([], tmp_path / "empty.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.png"]


def test_failure_while_writing_leaves_no_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def write_half_then_fail(self, fname, **kwargs):
        with open(fname, "wb") as handle:
            handle.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", write_half_then_fail)
    target = tmp_path / "scan.png"
    with pytest.raises(OSError, match="disk full"):
        save_heatmap([make_result(20)], target)
    assert list(tmp_path.iterdir()) == []


def test_pyplot_is_never_imported(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from saprot_scan.outputs.heatmap import save_heatmap
        from saprot_scan.results import ScanResult
        from saprot_scan.encoding.structure import ResidueId
        ids = tuple(ResidueId("A", i + 1) for i in range(5))
        save_heatmap([ScanResult("A", ids, "ACDEF", np.zeros((5, 20)), "wt", "m")], {str(tmp_path / 'x.svg')!r})
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "x.svg").stat().st_size > 1000


def test_plddt_masked_positions_get_a_marker_row_and_the_viewers_limit(tmp_path):
    from saprot_scan import viewers
    from saprot_scan.outputs.heatmap import MASKED_MARK_COLOR, _color_limits

    result = make_result(60)
    masked = {5, 40}
    result.struct = "".join("#" if i in masked else "d" for i in range(60))
    result.plddt_mask_applied, result.plddt_masked_count = True, len(masked)
    k = 20
    outlier, typical = _other_aa(result.wt[k], 0), _other_aa(result.wt[k], 1)
    result.scores[k, AMINO_ACIDS.index(outlier)] = -40.0  # one outlier cell
    result.scores[k, AMINO_ACIDS.index(typical)] = -1.0
    low, high, clip_low, _ = _color_limits([result])
    off_wt = [s for i, row in enumerate(result.scores) for j, s in enumerate(row) if AMINO_ACIDS[j] != result.wt[i]]
    assert (low, high) == (-viewers.colour_limit(off_wt), viewers.colour_limit(off_wt)) == (-1.0, 1.0)
    assert clip_low
    fig = heatmap_figure([result])
    (marks,) = [c for ax in fig.axes for c in ax.collections if c.get_gid() == "saprot-plddt-masked:A:0"]
    assert sorted(int(x) for x, _ in marks.get_offsets()) == sorted(masked)
    assert any("pLDDT-masked (low confidence)" in t.get_text() for t in fig.texts)
    path = tmp_path / "masked.png"
    save_heatmap([result], path)
    png = imread(path)
    (ax,) = [a for a in fig.axes if (a.get_gid() or "").startswith("saprot-heatmap:A:")]

    level = float(marks.get_offsets()[0][1])  # the marks' row, above the first amino-acid row

    def above(index):
        x, y = ax.transData.transform((index, level))
        return _rgb_at(png, (int(round(x)), int(round(fig.bbox.height - y))))

    np.testing.assert_allclose(above(5), to_rgb(MASKED_MARK_COLOR), atol=0.1)
    np.testing.assert_allclose(above(40), to_rgb(MASKED_MARK_COLOR), atol=0.1)
    assert above(6).min() > 0.9  # no marker over an unmasked column
    cmap = colormaps[COLORMAP]
    # the typical -1.0 cell takes the deepest red, not a pale one squeezed by the outlier
    np.testing.assert_allclose(_rgb_at(png, cell_pixel(fig, "A", k, typical)), cmap(0.0)[:3], atol=0.02)
    np.testing.assert_allclose(_rgb_at(png, cell_pixel(fig, "A", k, outlier)), cmap(0.0)[:3], atol=0.02)


def test_no_marker_row_without_masking():
    fig = heatmap_figure([make_result(30)])
    assert not [c for ax in fig.axes for c in ax.collections if (c.get_gid() or "").startswith("saprot-plddt")]
    assert not any("pLDDT-masked" in t.get_text() for t in fig.texts)


def test_panel_headers_name_the_structure():
    """Two structures may both have a chain A: each panel group's header says whose chain it is."""
    from dataclasses import replace

    from_file = replace(make_result(30, "A"), source="/data/models/1abc.cif")
    from_viewer = replace(make_result(30, "A", seed=1), source="PyMOL object 2xyz")
    texts = [t.get_text() for t in heatmap_figure([from_file, from_viewer]).texts]
    assert any(t.startswith("1abc.cif  ·  Chain A") for t in texts), texts
    assert any(t.startswith("PyMOL object 2xyz  ·  Chain A") for t in texts), texts


def test_colour_bar_ticks_are_evenly_spaced_on_both_sides_of_zero():
    """Issue 19: the bar read 1-unit steps above 0 and 0.6-unit steps below; one step now serves both halves."""
    from saprot_scan.outputs.heatmap import bar_ticks

    assert bar_ticks(-3.0, 3.0) == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert bar_ticks(-0.5, 0.5) == [-0.5, -0.25, 0.0, 0.25, 0.5]
    for limit in np.arange(0.5, 20.5, 0.5):  # every limit the colour rule can give (half units)
        ticks = np.array(bar_ticks(-limit, limit))
        steps = np.diff(ticks)
        assert np.allclose(steps, steps[0]) and 0.0 in ticks and 2 <= len(ticks) // 2 <= 5, (limit, ticks)
    result = make_result(40)
    result.scores[3, AMINO_ACIDS.index(_other_aa(result.wt[3]))] = -3.0
    fig = heatmap_figure([result])
    bar = [ax for ax in fig.axes if not (ax.get_gid() or "").startswith("saprot-heatmap")][0]
    drawn = np.array(bar.get_yticks())
    assert np.allclose(np.diff(drawn), np.diff(drawn)[0]) and 0.0 in drawn
