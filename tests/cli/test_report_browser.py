"""Issue 26, section 2: the ``--report`` page in a real browser (headless Chromium, Selenium; SwiftShader WebGL).

The page a scan writes opens offline without a JavaScript error, loads nothing from anywhere, draws 19 x L
heatmap cells in the core's colours and the structure in 3D, and one selected residue follows a click on a
heatmap cell, a table row or an atom in the 3D view. Known variants, when a result carries them, are marked
on the heatmap and their agreement figures shown.
"""
from __future__ import annotations

import numpy as np
import pytest

from support import browser
from test_core_bad_input import run_cli

pytestmark = pytest.mark.skipif(bool(browser.missing()), reason=browser.missing() or "browser present")

LENGTH = 129  # lysozyme, examples/1aki.cif


@pytest.fixture(scope="module")
def page(example_structure, tmp_path_factory):
    """The report of a real scan of lysozyme through the command line."""
    out = tmp_path_factory.mktemp("report")
    proc = run_cli("scan", example_structure, "--model", "burial-blosum", "--quiet", "--no-cache",
                   "--report", "lysozyme.html", cwd=out)
    assert proc.returncode == 0, proc.stderr
    return out / "lysozyme.html"


@pytest.fixture(scope="module")
def driver():
    chromium = browser.start()
    yield chromium
    chromium.quit()


@pytest.fixture
def opened(driver, page):
    """The page freshly loaded; fails the test on any console error seen while it was used."""
    messages = browser.open_page(driver, page)
    yield driver
    messages += driver.get_log("browser")
    assert browser.errors(messages) == []


def _selected_everywhere(driver) -> dict:
    """Which residue each view shows as selected: the page's state, the heatmap's column box, the table's rows,
    and the 3D view's residues drawn as sticks."""
    return driver.execute_script("""
        var api = window.saprotReport, box = document.querySelector('.heatmap .sel');
        var x = +box.getAttribute('x'), cellW = +document.querySelector('.heatmap .cell').getAttribute('width');
        var rows = Array.from(document.querySelectorAll('#table tbody tr'))
            .map(function (r) { return r.dataset.residue; });
        var sticks = api.viewer.getModel().selectedAtoms({}).filter(function (a) { return a.style.stick; })
            .map(function (a) { return a.chain + ':' + a.resi; });
        return {state: api.selected, column: Math.round((x - 26) / cellW), visible: box.getAttribute('visibility'),
                rows: Array.from(new Set(rows)), sticks: Array.from(new Set(sticks)),
                panel: document.getElementById('selection').dataset.residue};
    """)


def _assert_selected(driver, label: str) -> None:
    seen = _selected_everywhere(driver)
    index = [r["label"] for r in driver.execute_script("return saprotReport.data.chains[0].residues")].index(label)
    assert seen == {"state": f"A:{label}", "column": index, "visible": "visible", "rows": [f"A:{label}"],
                    "sticks": [f"A:{label}"], "panel": f"A:{label}"}, seen


def test_opens_offline_without_errors_and_draws_heatmap_and_structure(opened, tmp_path):
    driver = opened
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0  # nothing fetched
    assert driver.execute_script("return document.querySelectorAll('.heatmap .cell').length") == 19 * LENGTH
    assert driver.execute_script("return document.querySelectorAll('.heatmap .wt').length") == LENGTH
    assert driver.execute_script("return document.querySelectorAll('#viewer3d canvas').length") >= 1
    assert driver.execute_script("return saprotReport.viewer.getModel().selectedAtoms({atom: 'CA'}).length") == LENGTH
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    import matplotlib.image

    pixels = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    # a heatmap cell is drawn in the colour the core's rule gave it
    cell = driver.execute_script("""var c = document.querySelector('.heatmap .cell[data-i="51"][data-k="0"]');
        var r = c.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2, c.getAttribute('fill')]""")
    want = [int(cell[2][k:k + 2], 16) for k in (1, 3, 5)]
    assert np.abs(pixels[int(cell[1]), int(cell[0])] - want).max() <= 2
    # the structure is drawn: the 3D view is far from blank and holds the palette's reds and blues
    left, top, width, height = driver.execute_script(
        "var r = document.querySelector('#viewer3d canvas').getBoundingClientRect();"
        "return [r.left, r.top, r.width, r.height]")
    view = pixels[int(top):int(top + min(height, 1000 - top)), int(left):int(left + width)]
    drawn = (np.abs(view - 255).max(axis=2) > 30)
    assert drawn.mean() > 0.05
    reddish = (view[..., 0] > view[..., 2] + 40) & drawn
    bluish = (view[..., 2] > view[..., 0] + 40) & drawn
    assert reddish.sum() > 200 and bluish.sum() > 200


def test_hover_tells_mutant_score_percentile_and_class(opened):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    data = opened.execute_script("return saprotReport.data.chains[0]")
    cell = opened.find_element(By.CSS_SELECTOR, '.heatmap .cell[data-i="51"][data-k="0"]')
    ActionChains(opened).move_to_element(cell).perform()
    tip = opened.find_element(By.ID, "tip").text
    score, percentile = data["scores"][51][0], data["percentiles"][51][0]
    assert "D52A" in tip and f"score {score:.3f}" in tip and f"percentile {percentile:.1f}" in tip
    from saprot_scan.scoring.percentiles import DAMAGING, TOLERATED, UNCERTAIN

    names = {"d": DAMAGING, "u": UNCERTAIN, "t": TOLERATED}
    assert "class: " + names[data["classes"][51][0]] in tip


def test_a_heatmap_click_selects_the_residue_in_the_3d_view_and_the_table(opened):
    from selenium.webdriver.common.by import By

    opened.find_element(By.CSS_SELECTOR, '.heatmap .cell[data-i="51"][data-k="3"]').click()
    _assert_selected(opened, "52")
    assert len(opened.find_elements(By.CSS_SELECTOR, "#table tbody tr")) == 19


def test_a_click_on_an_atom_in_3d_selects_its_residue_in_the_heatmap_and_table(opened):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = opened.find_element(By.CSS_SELECTOR, "#viewer3d canvas")
    opened.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    target = opened.execute_script("""
        var v = saprotReport.viewer, a = v.getModel().selectedAtoms({chain: 'A', resi: 100, atom: 'CA'})[0];
        var s = v.modelToScreen({x: a.x, y: a.y, z: a.z}), r = arguments[0].getBoundingClientRect();
        var x = s.x - window.scrollX, y = s.y - window.scrollY;  // modelToScreen: page coordinates
        return [x - r.left - r.width / 2, y - r.top - r.height / 2, s.x, s.y];""", canvas)
    ActionChains(opened).move_to_element_with_offset(canvas, int(target[0]), int(target[1])).click().perform()
    picked = opened.execute_script("return saprotReport.selected")
    assert picked and picked.startswith("A:")
    _assert_selected(opened, picked[2:])
    # what was picked lies under the pointer: one of its atoms is drawn within a few pixels of the click
    near = opened.execute_script("""
        var v = saprotReport.viewer, resi = +arguments[0], x = arguments[1], y = arguments[2];
        return Math.min.apply(null, v.getModel().selectedAtoms({chain: 'A', resi: resi}).map(function (a) {
            var s = v.modelToScreen({x: a.x, y: a.y, z: a.z}); return Math.hypot(s.x - x, s.y - y); }));
    """, picked[2:], target[2], target[3])
    assert near < 15


def test_the_table_sorts_filters_and_selects(opened):
    from selenium.webdriver.common.by import By

    def column(n: int) -> list[str]:  # one round trip for the whole column
        return opened.execute_script("return Array.from(document.querySelectorAll('#table tbody tr td:nth-child('"
                                     " + arguments[0] + ')')).map(td => td.textContent)", n)

    def scores() -> list[float]:
        return [float(text) for text in column(4)]

    assert len(scores()) == 300 and scores() == sorted(scores())  # at first: the most damaging first
    opened.find_element(By.CSS_SELECTOR, '#table th[data-key="score"]').click()  # then: the highest first
    assert scores() == sorted(scores(), reverse=True)
    scores = scores()
    data = opened.execute_script("return saprotReport.data.chains[0]")
    assert scores[0] == round(max(max(v for v in row if v is not None) for row in data["scores"]), 3)
    from selenium.webdriver.support.ui import Select

    Select(opened.find_element(By.ID, "filter-class")).select_by_value("d")
    from saprot_scan.scoring.percentiles import DAMAGING

    assert set(column(6)) == {DAMAGING}
    count = sum(row.count("d") for row in data["classes"])
    assert f"of {count} substitutions" in opened.find_element(By.ID, "table-count").text
    opened.find_element(By.ID, "filter-text").send_keys("W28")
    rows = opened.find_elements(By.CSS_SELECTOR, "#table tbody tr")
    assert rows and all(r.get_attribute("data-residue") == "A:28" for r in rows)
    rows[0].click()
    _assert_selected(opened, "28")


def test_known_variants_are_marked_and_their_agreement_shown(driver, example_structure, tmp_path):
    import saprot_scan as ss
    from saprot_scan.report import write_report

    (chain,) = ss.read_structure(example_structure)
    result = ss.scan_chain(chain, ss.load_scorer("burial-blosum"), use_cache=False)
    variants = [{"mutant": "W28R", "position": 28, "residue": "28", "wt": "W", "mt": "R", "label": "pathogenic",
                 "clinical_significance": "Pathogenic", "gnomad": False, "am_pathogenicity": 0.97, "am_class": "LPath"},
                {"mutant": "K1R", "position": 1, "residue": "1", "wt": "K", "mt": "R", "label": "benign",
                 "clinical_significance": "Benign", "gnomad": True, "am_pathogenicity": 0.08, "am_class": "LBen"}]
    line = "known variants (chain A, P00698): ROC AUC too few to say (1 pathogenic, 1 benign); Spearman too few"
    result.known = {"accession": "P00698", "sources": ["lab.csv: 2 substitutions"], "variants": variants,
                    "mapping": {"text": "aligned to P00698: identity 100%"},
                    "agreement": {"line": line, "roc_auc": {"text": "ROC AUC: too few to say"},
                                  "spearman": {"text": "Spearman: too few to say"}, "disagreements": []}}
    write_report(tmp_path / "known.html", [result], structure_path=example_structure)
    assert browser.errors(browser.open_page(driver, tmp_path / "known.html")) == []
    marks = driver.execute_script("""return ['known-pathogenic', 'known-benign', 'known-am-lpath'].map(function (c) {
        return document.querySelectorAll('.heatmap .' + c).length; })""")
    assert marks == [1, 1, 1]
    assert driver.execute_script("return document.querySelector('.agreement-line').textContent") == line
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    cell = driver.find_element(By.CSS_SELECTOR, f'.heatmap .cell[data-i="27"][data-k="{ss.AMINO_ACIDS.index("R")}"]')
    ActionChains(driver).move_to_element(cell).perform()
    tip = driver.find_element(By.ID, "tip").text
    assert "known: pathogenic (Pathogenic)" in tip and "AlphaMissense LPath 0.970" in tip
    driver.find_element(By.ID, "filter-known").click()
    rows = driver.find_elements(By.CSS_SELECTOR, "#table tbody tr")
    assert sorted(r.get_attribute("data-residue") for r in rows) == ["A:1", "A:28"]
    tick = "return getComputedStyle(document.querySelector('.known-am-lpath')).display"
    assert driver.execute_script(tick) != "none"
    driver.find_element(By.ID, "show-am-ticks").click()  # AlphaMissense marks every substitution: they can hide
    assert driver.execute_script(tick) == "none"
    assert browser.errors(driver.get_log("browser")) == []


def test_a_page_without_a_structure_file_says_so_and_still_works(driver, example_structure, tmp_path):
    """Scores from a tar member or a viewer's object: no file for the 3D view, the rest of the page as usual."""
    import saprot_scan as ss
    from saprot_scan.report import write_report

    (chain,) = ss.read_structure(example_structure)
    result = ss.scan_chain(chain, ss.load_scorer("burial-blosum"), use_cache=False)
    write_report(tmp_path / "no3d.html", [result])
    assert browser.errors(browser.open_page(driver, tmp_path / "no3d.html")) == []
    assert "No structure file to show in 3D" in driver.execute_script(
        "return document.getElementById('viewer3d').textContent")
    driver.execute_script("document.querySelector('.heatmap .cell[data-i=\"9\"]')"
                          ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert driver.execute_script("return saprotReport.selected") == "A:10"
    assert browser.errors(driver.get_log("browser")) == []


def test_scan_known_report_marks_clinvar_cells_and_prints_the_agreement(driver, example_structure, tmp_path):
    """Through the command line with the known-variant files of P00698 (lysozyme) in the services' formats:
    every mapped ClinVar pathogenic/benign substitution is marked on the heatmap, and the agreement line the
    scan printed is the page's."""
    pytest.importorskip("saprot_scan.known", reason="known variants (--known) are not in this tree yet")
    known_files = pytest.importorskip("support.known_files", reason="the known-variant test files are not here")
    json_path, am_path, variants = known_files.build_files(tmp_path)
    proc = run_cli("scan", example_structure, "--model", "burial-blosum", "--no-cache", "--known", json_path,
                   "--known", am_path, "--report", "known.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "ROC AUC" in x and "Spearman" in x]
    assert browser.errors(browser.open_page(driver, tmp_path / "known.html")) == []
    assert driver.execute_script("return document.querySelector('.agreement-line').textContent") in line
    mapped = [(p - known_files.OFFSET, mt, s) for p, _, mt, s in variants if p > known_files.OFFSET]
    sick = sum("pathogenic" in s.lower() for *_, s in mapped)
    marks = driver.execute_script("""return ['known-pathogenic', 'known-benign', 'known-am-lpath'].map(function (c) {
        return document.querySelectorAll('.heatmap .' + c).length; })""")
    assert marks[:2] == [sick, len(mapped) - sick] and marks[2] > 0
    lpath = sum(1 for v, _, c in known_files.alphamissense_rows(known_files.lysozyme_sequence())
                if c == "LPath" and int(v[1:-1]) > known_files.OFFSET)
    assert marks[2] == lpath
