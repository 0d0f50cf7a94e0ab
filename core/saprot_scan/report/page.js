/* saprot-scan report: draws the data block (computed by saprot_scan.report.data) into heatmap, 3D view and
   table, and keeps one selected residue in all three. No network: everything it needs is in this file. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var AA = D.amino_acids;
  var CELL_H = 11, TOP = 26, LEFT = 26;
  var state = { selected: null, sortKey: "score", sortDir: 1, onlyResidue: null };
  var api = { data: D, selected: null, viewer: null, select: select };
  window.saprotReport = api;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }
  function fmt(v, digits) { return v === null || v === undefined ? "–" : Number(v).toFixed(digits); }
  function className(letter) { return D.classes.names[letter] || ""; }
  function keyOf(c, i) { return D.chains[c].chain + ":" + D.chains[c].residues[i].label; }
  function known(c, i, k) {
    var row = D.chains[c].known[String(i)];
    return row ? row[AA[k]] || null : null;
  }
  function knownText(mark) {
    if (!mark) return "";
    var parts = [];
    if (mark.label) parts.push("known: " + mark.label + (mark.clinical ? " (" + mark.clinical + ")" : ""));
    if (mark.gnomad) parts.push("in gnomAD");
    if (mark.am_class) parts.push("AlphaMissense " + mark.am_class + (mark.am_score !== undefined && mark.am_score !== null ? " " + fmt(mark.am_score, 3) : ""));
    return parts.join("; ");
  }
  function cellText(c, i, k) {
    var ch = D.chains[c], r = ch.residues[i];
    var lines = [ch.chain + " " + r.wt + r.label + AA[k] + "  (" + r.wt + r.position + AA[k] + " in the chain)",
      "score " + fmt(ch.scores[i][k], 3) + "  ·  percentile " + fmt(ch.percentiles[i][k], 1),
      "class: " + (className(ch.classes[i][k]) || "–")];
    if (r.measured !== undefined) lines.push(r.measured ? "measured: assay labels at this site" : "no assay label at this site");
    if (r.masked) lines.push("pLDDT-masked (low confidence)");
    var mark = knownText(known(c, i, k));
    if (mark) lines.push(mark);
    return lines;
  }

  /* ------------------------------------------------------------------ heatmap */
  var selBoxes = [];
  function gradient(scale) {
    return "linear-gradient(to right," + scale.colours.join(",") + ")";
  }
  function anyAlphaMissensePathogenic() {
    return D.chains.some(function (ch) {
      return Object.keys(ch.known).some(function (i) {
        return Object.keys(ch.known[i]).some(function (aa) { return ch.known[i][aa].am_class === "LPath"; });
      });
    });
  }
  function tickToggle() {  /* AlphaMissense covers every substitution: its ticks can be hidden */
    var label = el("label"), box = el("input", { type: "checkbox", id: "show-am-ticks", checked: "checked" });
    box.addEventListener("change", function () { document.getElementById("heatmaps").classList.toggle("hide-am", !box.checked); });
    label.append(box, " AlphaMissense ticks");
    return label;
  }
  function drawKey(parent) {
    var key = el("div", { "class": "key" });
    key.appendChild(el("span", {}, fmt(D.cell_scale.low, 1)));
    var bar = el("span", { "class": "bar" }); bar.style.background = gradient(D.cell_scale);
    key.appendChild(bar);
    key.appendChild(el("span", {}, fmt(D.cell_scale.high, 1)));
    var marks = [D.chains[0].meaning.legend, "● wild type", "grey: not scored"];
    var every = [];
    D.chains.forEach(function (ch) { every = every.concat(ch.residues); });
    if (every.some(function (r) { return r.masked; })) marks.push("▼ pLDDT-masked (low confidence)");
    if (every.some(function (r) { return r.measured === false; })) marks.push("× no assay label at this site");
    if (D.chains.some(function (ch) { return Object.keys(ch.known).length; })) {
      marks.push("black dot: known pathogenic, ring: known benign (ClinVar)", "corner tick: AlphaMissense likely pathogenic");
    }
    key.appendChild(el("span", { "class": "muted" }, marks.join("  ·  ")));
    if (anyAlphaMissensePathogenic()) key.appendChild(tickToggle());
    parent.appendChild(key);
  }
  function drawHeatmap(c) {
    var ch = D.chains[c], L = ch.residues.length;
    var w = Math.max(5, Math.min(14, Math.floor(1180 / Math.max(L, 1))));
    var box = el("div", { "class": "heatmap", "data-chain": ch.chain });
    box.appendChild(el("h3", {}, "Chain " + ch.chain + " · " + L + " residues · " + ch.method + " · model " + ch.model));
    var root = svg("svg", { width: LEFT + L * w + 8, height: TOP + 20 * CELL_H + 4, "data-chain-index": c });
    for (var k = 0; k < 20; k++) {
      var t = svg("text", { x: 4, y: TOP + k * CELL_H + 8 }); t.textContent = AA[k]; root.appendChild(t);
    }
    for (var i = 0; i < L; i++) {
      var r = ch.residues[i], x = LEFT + i * w;
      if (i % 10 === 0) {
        var n = svg("text", { x: x, y: 9 }); n.textContent = r.label; root.appendChild(n);
      }
      if (r.masked) { var m = svg("text", { x: x, y: 21, "class": "masked-mark" }); m.textContent = "▼"; root.appendChild(m); }
      if (r.measured === false) { var u = svg("text", { x: x, y: 21, "class": "unmeasured-mark" }); u.textContent = "×"; root.appendChild(u); }
      if (AA.indexOf(r.wt) < 0) {
        root.appendChild(svg("rect", { x: x, y: TOP, width: w, height: 20 * CELL_H, fill: D.unscored, "class": "unscored", "data-i": i }));
        continue;
      }
      for (var k2 = 0; k2 < 20; k2++) {
        var y = TOP + k2 * CELL_H;
        if (AA[k2] === r.wt) {
          root.appendChild(svg("rect", { x: x, y: y, width: w, height: CELL_H, fill: "#ffffff", "class": "wt", "data-i": i, "data-k": k2 }));
          root.appendChild(svg("circle", { cx: x + w / 2, cy: y + CELL_H / 2, r: Math.min(w, CELL_H) / 4, fill: "#222", "pointer-events": "none" }));
          continue;
        }
        root.appendChild(svg("rect", { x: x, y: y, width: w, height: CELL_H, fill: ch.cells[i][k2], "class": "cell", "data-i": i, "data-k": k2 }));
        var mark = known(c, i, k2);
        if (mark && mark.am_class === "LPath") {
          root.appendChild(svg("path", { d: "M" + (x + w) + " " + y + "h-" + Math.max(3, w / 2) + "l" + Math.max(3, w / 2) + " " + Math.max(3, w / 2) + "z",
            fill: "#111", "class": "known-am-lpath", "pointer-events": "none" }));
        }
        if (mark && (mark.label === "pathogenic" || mark.label === "benign")) {
          root.appendChild(svg("circle", { cx: x + w / 2, cy: y + CELL_H / 2, r: Math.min(w, CELL_H) / 3,
            fill: mark.label === "pathogenic" ? "#000" : "#fff", stroke: "#000", "stroke-width": 0.8,
            "class": "known-" + mark.label, "pointer-events": "none" }));
        }
      }
    }
    var sel = svg("rect", { x: 0, y: TOP - 1, width: w, height: 20 * CELL_H + 2, "class": "sel", visibility: "hidden" });
    root.appendChild(sel);
    selBoxes[c] = { rect: sel, w: w };
    root.addEventListener("mousemove", function (e) {
      var t = e.target, tip = document.getElementById("tip");
      if (!t.classList || !(t.classList.contains("cell") || t.classList.contains("wt"))) { tip.hidden = true; return; }
      var i = +t.getAttribute("data-i"), k = +t.getAttribute("data-k");
      var r = ch.residues[i];
      var lines = t.classList.contains("wt") ? [ch.chain + " " + r.wt + r.label + ": wild type", "mean of the 19 substitutions " + fmt(r.mean, 3)] : cellText(c, i, k);
      tip.textContent = "";
      lines.forEach(function (line, n) { if (n) tip.appendChild(el("br")); tip.appendChild(document.createTextNode(line)); });
      tip.hidden = false;
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - 330) + "px";
      tip.style.top = (e.clientY + 14) + "px";
    });
    root.addEventListener("mouseleave", function () { document.getElementById("tip").hidden = true; });
    root.addEventListener("click", function (e) {
      var i = e.target.getAttribute && e.target.getAttribute("data-i");
      if (i !== null && i !== undefined) select(c, +i, "heatmap");
    });
    box.appendChild(root);
    return box;
  }

  /* ------------------------------------------------------------------ 3D view */
  var viewer = null, model = null, residueAt = {};
  function atomKey(atom) {
    var code = (atom.icode || "").trim();
    if (code === "." || code === "?") code = "";
    return atom.chain + ":" + atom.resi + code;
  }
  function residueOfAtom(atom) {
    var hit = residueAt[atomKey(atom)];
    return hit || residueAt[atom.chain + ":" + atom.resi] || null;
  }
  function baseStyle() {
    model.setStyle({}, { cartoon: { color: D.unscored } });
    model.setStyle({ hetflag: true }, { stick: { radius: 0.15, colorscheme: "grayCarbon" } });
    model.setStyle({ resn: ["HOH", "WAT", "DOD"] }, {});
    D.chains.forEach(function (ch) {
      model.setStyle({ chain: ch.chain, hetflag: false }, { cartoon: { colorfunc: function (atom) {
        var hit = residueOfAtom(atom);
        return hit ? D.chains[hit[0]].residues[hit[1]].colour : D.unscored;
      } } });
    });
  }
  function draw3D() {
    var box = document.getElementById("viewer3d");
    if (!D.structure) { box.appendChild(el("p", { "class": "hint" }, "No structure file to show in 3D (the scores came from " + (D.chains[0].source || "a viewer") + ").")); return; }
    if (typeof $3Dmol === "undefined") { box.appendChild(el("p", { "class": "hint" }, "The 3D viewer did not load.")); return; }
    D.chains.forEach(function (ch, c) {
      ch.residues.forEach(function (r, i) { residueAt[ch.chain + ":" + r.label] = [c, i]; });
    });
    viewer = $3Dmol.createViewer(box, { backgroundColor: "white", antialias: true });
    if (!viewer) { box.appendChild(el("p", { "class": "hint" }, "This browser cannot show 3D (no WebGL).")); return; }
    api.viewer = viewer;
    model = viewer.addModel(D.structure.text, D.structure.format);
    baseStyle();
    model.setClickable({}, true, function (atom) {
      var hit = residueOfAtom(atom);
      if (hit) select(hit[0], hit[1], "3d");
    });
    model.setHoverable({}, true, function (atom) {
      var hit = residueOfAtom(atom);
      if (!hit || atom.hoverLabel) return;
      var r = D.chains[hit[0]].residues[hit[1]];
      atom.hoverLabel = viewer.addLabel(D.chains[hit[0]].chain + " " + r.wt + r.label + "  mean " + fmt(r.mean, 2),
        { position: atom, fontSize: 11, backgroundColor: "#333", backgroundOpacity: 0.8 });
    }, function (atom) {
      if (atom.hoverLabel) { viewer.removeLabel(atom.hoverLabel); delete atom.hoverLabel; }
    });
    viewer.zoomTo({ chain: D.chains.map(function (ch) { return ch.chain; }) });
    viewer.render();
    var key = el("div", { "class": "key" });
    key.style.position = "absolute"; key.style.bottom = "0"; key.style.left = "0";
    key.appendChild(el("span", {}, "residue " + D.summary + ": " + fmt(D.residue_scale.low, 1)));
    var bar = el("span", { "class": "bar" }); bar.style.background = gradient(D.residue_scale); key.appendChild(bar);
    key.appendChild(el("span", {}, fmt(D.residue_scale.high, 1)));
    box.appendChild(key);
  }
  function residueSpec(c, i) {
    var ch = D.chains[c], r = ch.residues[i];
    return { chain: ch.chain, predicate: function (atom) { var hit = residueOfAtom(atom); return !!hit && hit[0] === c && hit[1] === i; } };
  }
  var selectionLabel = null;
  function select3D(c, i, from) {
    if (!viewer) return;
    baseStyle();
    var spec = residueSpec(c, i), r = D.chains[c].residues[i];
    model.setStyle(spec, { cartoon: { color: r.colour }, stick: { colorscheme: "yellowCarbon", radius: 0.3 } });
    if (selectionLabel) viewer.removeLabel(selectionLabel);
    var atoms = model.selectedAtoms(spec);
    var anchor = atoms.filter(function (a) { return a.atom === "CA"; })[0] || atoms[0];
    selectionLabel = anchor ? viewer.addLabel(D.chains[c].chain + " " + r.wt + r.label, { position: anchor, fontSize: 12,
      fontColor: "black", backgroundColor: "#ffe066", backgroundOpacity: 0.9, inFront: true }) : null;
    if (from !== "3d") viewer.center(spec, 400);
    viewer.render();
  }

  /* ------------------------------------------------------------------ selection panel */
  function showSelection(c, i) {
    var ch = D.chains[c], r = ch.residues[i], box = document.getElementById("selection");
    box.textContent = "";
    box.setAttribute("data-residue", ch.chain + ":" + r.label);
    box.appendChild(el("h3", {}, "Chain " + ch.chain + " · " + r.wt + r.label + " (position " + r.position + ")"));
    box.appendChild(el("p", {}, "mean of the 19 substitutions " + fmt(r.mean, 3) +
      (r.measured === undefined ? "" : r.measured ? " · measured site" : " · no assay label at this site") + (r.masked ? " · pLDDT-masked" : "")));
    var rows = [];
    for (var k = 0; k < 20; k++) if (AA[k] !== r.wt && ch.scores[i][k] !== null) rows.push(k);
    rows.sort(function (a, b) { return ch.scores[i][b] - ch.scores[i][a]; });
    var t = el("table");
    t.appendChild(el("tr")).append(el("th", {}, "mutant"), el("th", {}, "score"), el("th", {}, "percentile"), el("th", {}, "class"));
    if (anyKnown) t.firstChild.appendChild(el("th", {}, "known"));
    rows.forEach(function (k) {
      var tr = el("tr");
      var sw = el("span", { "class": "swatch" }); sw.style.background = ch.cells[i][k];
      var first = el("td"); first.append(sw, " " + AA[k]);
      tr.append(first, el("td", {}, fmt(ch.scores[i][k], 3)), el("td", {}, fmt(ch.percentiles[i][k], 1)),
        el("td", {}, className(ch.classes[i][k])));
      if (anyKnown) tr.appendChild(el("td", {}, knownText(known(c, i, k))));
      t.appendChild(tr);
    });
    box.appendChild(t);
  }

  function select(c, i, from) {
    state.selected = [c, i];
    api.selected = keyOf(c, i);
    document.body.setAttribute("data-selected", api.selected);
    selBoxes.forEach(function (b, n) {
      if (n === c) { b.rect.setAttribute("x", LEFT + i * b.w); b.rect.setAttribute("visibility", "visible"); }
      else b.rect.setAttribute("visibility", "hidden");
    });
    if (from !== "heatmap") {
      var box = document.querySelectorAll(".heatmap")[c];
      if (box) box.scrollLeft = Math.max(0, LEFT + i * selBoxes[c].w - box.clientWidth / 2);
    }
    showSelection(c, i);
    state.onlyResidue = [c, i];
    renderTable();
    select3D(c, i, from);
  }

  /* ------------------------------------------------------------------ table */
  var COLUMNS = [["chain", "chain"], ["residue", "residue"], ["mutant", "mutant (position in chain)"], ["score", "score"],
    ["percentile", "percentile"], ["class", "class"], ["known", "known"]];
  var ROWS = [], MAX_ROWS = 300, anyKnown = false;
  function buildRows() {
    D.chains.forEach(function (ch, c) {
      ch.residues.forEach(function (r, i) {
        if (AA.indexOf(r.wt) < 0) return;
        for (var k = 0; k < 20; k++) {
          if (AA[k] === r.wt) continue;
          var mark = known(c, i, k);
          ROWS.push({ c: c, i: i, k: k, chain: ch.chain, residue: r.wt + r.label, author: r.wt + r.label + AA[k],
            mutant: r.wt + r.position + AA[k], score: ch.scores[i][k], percentile: ch.percentiles[i][k],
            cls: ch.classes[i][k], "class": className(ch.classes[i][k]), known: knownText(mark), mark: mark });
        }
      });
    });
  }
  function compare(a, b) {
    var x = a[state.sortKey], y = b[state.sortKey];
    if (state.sortKey === "residue" || state.sortKey === "mutant") { x = a.c * 1e6 + a.i * 20 + a.k; y = b.c * 1e6 + b.i * 20 + b.k; }
    if (x === null || x === undefined || x === "") return 1;
    if (y === null || y === undefined || y === "") return -1;
    return (x < y ? -1 : x > y ? 1 : 0) * state.sortDir;
  }
  function renderTable() {
    var text = document.getElementById("filter-text").value.trim().toUpperCase();
    var cls = document.getElementById("filter-class").value;
    var knownOnly = document.getElementById("filter-known").checked;
    var only = state.onlyResidue;
    var rows = ROWS.filter(function (row) {
      if (only && (row.c !== only[0] || row.i !== only[1])) return false;
      if (cls && row.cls !== cls) return false;
      if (knownOnly && !(row.mark && row.mark.label)) return false;
      if (text && (row.author + " " + row.mutant + " " + row.chain + ":" + row.residue).toUpperCase().indexOf(text) < 0) return false;
      return true;
    }).sort(compare);
    var body = document.querySelector("#table tbody");
    body.textContent = "";
    rows.slice(0, MAX_ROWS).forEach(function (row) {
      var tr = el("tr", { "data-residue": row.chain + ":" + D.chains[row.c].residues[row.i].label });
      if (state.selected && state.selected[0] === row.c && state.selected[1] === row.i) tr.className = "selected";
      var sw = el("span", { "class": "swatch" }); sw.style.background = D.chains[row.c].cells[row.i][row.k];
      var score = el("td"); score.append(sw, " " + fmt(row.score, 3));
      var mark = el("td", {}, row.known);
      if (row.mark && row.mark.label) mark.className = "mark-" + row.mark.label;
      tr.append(el("td", {}, row.chain), el("td", {}, row.residue),
        el("td", {}, row.author + (row.author === row.mutant ? "" : " (" + row.mutant + ")")), score,
        el("td", {}, fmt(row.percentile, 1)), el("td", {}, row["class"]));
      if (anyKnown) tr.appendChild(mark);
      tr.addEventListener("click", function () { select(row.c, row.i, "table"); });
      body.appendChild(tr);
    });
    document.getElementById("table-count").textContent = "showing " + Math.min(rows.length, MAX_ROWS) + " of " + rows.length +
      " substitutions" + (only ? " at " + keyOf(only[0], only[1]) : "") + (rows.length > MAX_ROWS ? " (filter or sort to see the others)" : "");
    document.querySelectorAll("#table th").forEach(function (th) {
      th.className = th.getAttribute("data-key") === state.sortKey ? (state.sortDir > 0 ? "sorted-asc" : "sorted-desc") : "";
    });
  }
  function drawTable() {
    var head = document.querySelector("#table thead tr");
    buildRows();
    anyKnown = ROWS.some(function (row) { return !!row.known; });
    var anyLabel = ROWS.some(function (row) { return !!(row.mark && row.mark.label); });
    COLUMNS.filter(function (col) { return anyKnown || col[0] !== "known"; }).forEach(function (col) {
      var th = el("th", { "data-key": col[0] }, col[1]);
      th.addEventListener("click", function () {
        state.sortDir = state.sortKey === col[0] ? -state.sortDir : 1;
        state.sortKey = col[0];
        renderTable();
      });
      head.appendChild(th);
    });
    var select_ = document.getElementById("filter-class");
    Object.keys(D.classes.names).forEach(function (letter) { select_.appendChild(el("option", { value: letter }, D.classes.names[letter])); });
    document.getElementById("filter-known-label").hidden = !anyLabel;
    [["filter-text", "input"], ["filter-class", "change"], ["filter-known", "change"]].forEach(function (pair) {
      document.getElementById(pair[0]).addEventListener(pair[1], function () { state.onlyResidue = null; renderTable(); });
    });
    document.getElementById("filter-clear").addEventListener("click", function () {
      state.onlyResidue = null; document.getElementById("filter-text").value = "";
      document.getElementById("filter-class").value = ""; document.getElementById("filter-known").checked = false;
      renderTable();
    });
    renderTable();
  }

  /* ------------------------------------------------------------------ suggestions and the about block */
  function drawSuggestions() {
    if (!D.suggestions.length) return;
    var box = document.getElementById("suggestions");
    box.appendChild(el("h3", {}, "Suggested substitutions"));
    var t = el("table");
    t.appendChild(el("tr")).append(el("th", {}, "#"), el("th", {}, "kind"), el("th", {}, "mutant"), el("th", {}, "score"));
    D.suggestions.forEach(function (s) {
      var tr = el("tr", { "class": "suggestion" });
      tr.append(el("td", {}, s.rank), el("td", {}, s.kind), el("td", {}, s.chain + " " + s.mutant), el("td", {}, fmt(s.score, 3)));
      tr.addEventListener("click", function () {
        var c = D.chains.findIndex(function (ch) { return ch.chain === s.chain; });
        if (c >= 0) select(c, s.index, "suggestions");
      });
      t.appendChild(tr);
    });
    box.appendChild(t);
  }
  function pairsTable(pairs) {
    var t = el("table");
    pairs.forEach(function (p) { var tr = el("tr"); tr.append(el("th", {}, p[0]), el("td", {}, p[1])); t.appendChild(tr); });
    return t;
  }
  function drawAbout() {
    var meaning = document.getElementById("about-meaning");
    var seen = {};
    D.chains.forEach(function (ch) {
      if (seen[ch.meaning.describe]) return;
      seen[ch.meaning.describe] = true;
      meaning.appendChild(el("p", {}, ch.meaning.describe));
      meaning.appendChild(el("p", { "class": "muted" }, ch.meaning.legend + ". Colour scale of the heatmap: " + D.cell_scale.text +
        "; of the 3D view (residue " + D.summary + "): " + D.residue_scale.text + "."));
    });
    var classes = document.getElementById("about-classes");
    classes.appendChild(el("p", {}, D.classes.text));
    var names = Object.keys(D.classes.scorers);
    if (names.length) {
      var t = el("table");
      t.appendChild(el("tr")).append(el("th", {}, "scorer"), el("th", {}, "'" + D.classes.names.d + "' in the assay's worst quarter"), el("th", {}, "'" + D.classes.names.t + "' in its best quarter"), el("th", {}, ""));
      names.forEach(function (name) {
        var row = D.classes.scorers[name];
        t.appendChild(el("tr")).append(el("td", {}, name), el("td", {}, fmt(100 * row.damaging_precision, 0) + "%"),
          el("td", {}, fmt(100 * row.tolerated_precision, 0) + "%"), el("td", { "class": "muted" }, row.in_sample ? "in-sample" : ""));
      });
      classes.appendChild(t);
    }
    var agreement = document.getElementById("about-agreement");
    D.chains.forEach(function (ch) {
      var a = ch.agreement;
      if (!a || !Object.keys(a).length) return;
      if (!agreement.firstChild) agreement.appendChild(el("h2", {}, "Agreement with what is known about this protein"));
      agreement.appendChild(el("h3", {}, "Chain " + ch.chain + (a.accession ? " · " + a.accession : "")));
      if (a.line) agreement.appendChild(el("p", { "class": "agreement-line", "data-chain": ch.chain }, a.line));
      [a.roc_auc, a.spearman, a.mapping].forEach(function (text) { if (text) agreement.appendChild(el("p", { "class": "muted" }, text)); });
      a.sources.forEach(function (s) { agreement.appendChild(el("p", { "class": "muted" }, "source: " + s)); });
      if (a.disagreements.length) {
        agreement.appendChild(el("p", {}, "Where the scores and AlphaMissense disagree most (percentiles within the chain, 100 = most tolerated):"));
        var t = el("table", { "class": "disagreements" });
        t.appendChild(el("tr")).append(el("th", {}, "mutant"), el("th", {}, "residue"), el("th", {}, "score"), el("th", {}, "score percentile"),
          el("th", {}, "AlphaMissense"), el("th", {}, "AlphaMissense percentile"), el("th", {}, ""));
        a.disagreements.forEach(function (d) {
          t.appendChild(el("tr")).append(el("td", {}, d.mutant), el("td", {}, d.residue), el("td", {}, fmt(d.score, 3)),
            el("td", {}, fmt(d.score_rank, 1)), el("td", {}, fmt(d.am_pathogenicity, 3) + " " + (d.am_class || "")),
            el("td", {}, fmt(d.alphamissense_rank, 1)), el("td", { "class": "muted" }, d.direction || ""));
        });
        agreement.appendChild(t);
      }
    });
    var p = D.provenance, prov = document.getElementById("about-provenance");
    if (p.command) { var cmd = el("p"); cmd.append("Command: ", el("code", { "class": "command" }, p.command)); prov.appendChild(cmd); }
    prov.appendChild(pairsTable(p.models.map(function (m) { return ["model " + m.name, (m.sha256 ? "sha256 " + m.sha256 : "no file hash (built-in scorer)") + " · method " + m.method]; })
      .concat(Object.keys(p.versions).map(function (k) { return [k, p.versions[k]]; }))
      .concat([["written", p.written]])));
    D.chains.forEach(function (ch) {
      ch.notes.forEach(function (n) { prov.appendChild(el("p", { "class": "muted" }, "chain " + ch.chain + ": " + n)); });
    });
  }

  /* ------------------------------------------------------------------ page */
  document.getElementById("title").textContent = D.title;
  document.getElementById("meaning").textContent = D.chains.length ? D.chains[0].meaning.describe : "";
  var maps = document.getElementById("heatmaps");
  if (D.chains.length) drawKey(maps);
  D.chains.forEach(function (ch, c) { maps.appendChild(drawHeatmap(c)); });
  drawTable();
  drawSuggestions();
  drawAbout();
  draw3D();
  document.body.setAttribute("data-ready", "1");
})();
