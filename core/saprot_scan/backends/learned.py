"""The learned structure scorer: gradient-boosted trees, trained on deep mutational scans, over structure features.

burial-blosum adds four hand-weighted terms; this scorer lets measured fitness decide how burial at several
radii, contact chemistry, secondary structure, 3Di letters, pLDDT and the amino-acid change combine
(features: ``backends.learned_features``). The trees ship as plain JSON (``models/learned/``), verified by
SHA-256 against ``models/learned/model.json`` and evaluated here with numpy: no pickle, no scikit-learn at
run time. Training recipe and leave-assay-out results: ``models/training/learned.py``, models/README.md.

Output: the trees predict a substitution's within-assay fitness rank; the scorer reports the prediction as
per-chain z-scores over the substitutions (wild type 0, higher = more tolerated), the units of burial-blosum
and of ensembles, so ``--model learned-structure+saprot-650m`` averages like quantities.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from saprot_scan.backends.ensemble import standardise
from saprot_scan.backends.structure import StructureScorer, partner_context
from saprot_scan.errors import ModelError
from saprot_scan.scoring.meaning import ScoreMeaning, chain_z

LEARNED_SCORER_NAME = "learned-structure"
MODEL_FOLDER = Path(__file__).resolve().parents[1] / "_models" / "learned"
MANIFEST = "model.json"
TREES_FORMAT = "saprot-scan gradient-boosted trees 1"
#: z units over the chain's substitutions, as burial-blosum's: 0 is the typical substitution, not the wild type.
SCORE_MEANING = chain_z("learned structure score (z units; trees trained on deep mutational scans)")


@dataclass(frozen=True)
class SplitTable:
    """Split nodes of every tree in layers: layer j holds the j-th test of each tree that has one, so the
    work is one pass per real test (no padding), however unevenly the tests are spread over the trees."""

    trees: int
    dtype: type
    layers: tuple  # per layer: (tree indices, features, thresholds, NaN goes right, surviving-leaf masks)

    @classmethod
    def build(cls, nodes: list[list[tuple[int, float, bool, int]]], dtype) -> "SplitTable":
        every = np.iinfo(dtype).max
        layers = []
        for j in range(max([0] + [len(n) for n in nodes])):
            owners = [k for k, tree in enumerate(nodes) if len(tree) > j]
            tests = [nodes[k][j] for k in owners]
            layers.append((np.array(owners), np.array([t[0] for t in tests], dtype=np.int64),
                           np.array([t[1] for t in tests], dtype=float), np.array([t[2] for t in tests]),
                           np.array([every & ~t[3] for t in tests], dtype=np.uint64).astype(dtype)))
        return cls(len(nodes), dtype, tuple(layers))

    def alive(self, rows: np.ndarray) -> np.ndarray:
        """(T, R) bits of the leaves each row can still reach; data rows as columns so each test reads one
        contiguous feature row."""
        columns = np.ascontiguousarray(rows.T)
        every = np.iinfo(self.dtype).max
        alive = np.full((self.trees, len(rows)), every, dtype=self.dtype)
        for owners, feature, threshold, missing_right, mask in self.layers:
            x = columns[feature]
            failed = x > threshold[:, None]
            if np.isnan(x).any():
                failed |= np.isnan(x) & missing_right[:, None]
            alive[owners] &= np.where(failed, mask[:, None], every)
        return alive


@dataclass(frozen=True)
class TreeEnsemble:
    """Regression trees, evaluated the QuickScorer way (Lucchese et al. 2015) so numpy does it in bulk.

    Leaves are numbered left to right; every split node carries a bit mask that clears the leaves of its
    left subtree. A row's leaf in a tree is the leftmost leaf that survives the masks of all the tree's nodes
    whose test it fails (x > threshold, or a missing x the node sends right): no walk from node to node,
    only one comparison per (row, split node), an AND per tree and a lowest-bit lookup. Tests on features
    of the residue (the same for its 20 substitutions) run once per residue (``predict_grid``).
    """

    nodes: tuple  # per tree: ((feature, threshold, NaN goes right, left-subtree leaf bits), ...)
    leaf_value: np.ndarray  # float (T, leaves), leaves left to right
    baseline: float
    dtype: type
    _tables: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> "TreeEnsemble":
        packed = [_tree_masks(tree) for tree in data["trees"]]
        leaves = max(len(values) for _, values in packed)
        if leaves > 64:
            raise ModelError(f"a tree with {leaves} leaves is more than this evaluator handles (64)")
        leaf_value = np.zeros((len(packed), leaves))
        for k, (_, values) in enumerate(packed):
            leaf_value[k, :len(values)] = values
        dtype = np.uint16 if leaves <= 16 else np.uint32 if leaves <= 32 else np.uint64
        return cls(tuple(tuple(nodes) for nodes, _ in packed), leaf_value, float(data["baseline"]), dtype)

    def _split_tables(self, first_cell_feature: int) -> tuple[SplitTable, SplitTable]:
        """(tests on features < first_cell_feature, tests on the others renumbered from 0), built once."""
        if first_cell_feature not in self._tables:
            low = [[n for n in tree if n[0] < first_cell_feature] for tree in self.nodes]
            high = [[(f - first_cell_feature, *rest) for f, *rest in tree if f >= first_cell_feature]
                    for tree in self.nodes]
            self._tables[first_cell_feature] = (SplitTable.build(low, self.dtype), SplitTable.build(high, self.dtype))
        return self._tables[first_cell_feature]

    def _leaf_sum(self, alive: np.ndarray) -> np.ndarray:
        alive = alive.astype(np.uint64)
        leaf = np.log2((alive & (~alive + np.uint64(1))).astype(float)).astype(np.int64)
        return self.baseline + self.leaf_value[np.arange(len(self.nodes))[:, None], leaf].sum(axis=0)

    def predict(self, rows: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """Sum of the leaves each row reaches, plus the baseline; rows in chunks so memory stays flat in L."""
        rows = np.asarray(rows, dtype=float)
        table = self._split_tables(rows.shape[1])[0]
        parts = [self._leaf_sum(table.alive(rows[start:start + chunk])) for start in range(0, len(rows), chunk)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def predict_grid(self, per_residue: np.ndarray, per_cell: np.ndarray, chunk: int = 64) -> np.ndarray:
        """(L, C) predictions for rows [per_residue[i], per_cell[i, c]]: the residue tests once per residue."""
        per_residue, per_cell = np.asarray(per_residue, dtype=float), np.asarray(per_cell, dtype=float)
        length, cells = per_cell.shape[:2]
        residue_table, cell_table = self._split_tables(per_residue.shape[1])
        out = np.empty((length, cells))
        for start in range(0, length, chunk):
            stop = min(start + chunk, length)
            alive = np.repeat(residue_table.alive(per_residue[start:stop]), cells, axis=1)
            alive &= cell_table.alive(per_cell[start:stop].reshape((stop - start) * cells, -1))
            out[start:stop] = self._leaf_sum(alive).reshape(stop - start, cells)
        return out


def _tree_masks(tree: dict) -> tuple[list[tuple[int, float, bool, int]], list[float]]:
    """One tree's split nodes (feature, threshold, NaN goes right, bits of its left subtree's leaves) and
    its leaf values, leaves numbered left to right."""
    left, right, is_leaf = tree["left"], tree["right"], tree["leaf"]
    order: list[int] = []  # leaves, left to right
    below: dict[int, list[int]] = {}  # split node -> leaf ranks of its left subtree

    def visit(node: int) -> list[int]:
        if is_leaf[node]:
            order.append(node)
            return [len(order) - 1]
        under_left = visit(left[node])
        below[node] = under_left
        return under_left + visit(right[node])

    visit(0)
    nodes = [(tree["feature"][n], tree["threshold"][n], not tree["missing_left"][n], sum(1 << r for r in below[n]))
             for n in sorted(below)]
    return nodes, [tree["value"][n] for n in order]


@lru_cache(maxsize=4)
def load_trees(folder: str) -> tuple[TreeEnsemble, dict]:
    """The shipped trees and their manifest, after checking the file's SHA-256 against the manifest."""
    from saprot_scan.backends.learned_features import FEATURE_NAMES
    from saprot_scan.models.hashing import sha256_file

    base = Path(folder)
    try:
        manifest = json.loads((base / MANIFEST).read_text())
        path = base / manifest["file"]
        digest = sha256_file(path)
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"the learned structure scorer's files are missing or unreadable in {base}: {err}") from err
    if digest != manifest["sha256"]:
        raise ModelError(f"{path} has SHA-256 {digest}, expected {manifest['sha256']}: reinstall saprot-scan")
    data = json.loads(path.read_text())
    if data.get("format") != TREES_FORMAT or tuple(data.get("features", ())) != FEATURE_NAMES:
        raise ModelError(f"{path} was made for other features or another format: retrain with "
                         "'make train-structure' or reinstall saprot-scan")
    return TreeEnsemble.from_json(data), manifest


def learned_scores(ensemble: TreeEnsemble, sequence: str, coords: np.ndarray, plddt: np.ndarray | None = None,
                   struct: str | None = None, context=None) -> np.ndarray:
    """(L, 20) per-chain z-scores of the predicted tolerance; wild type 0, unknown residues (X) NaN; ``context``:
    the partner chains (``learned_features``)."""
    from saprot_scan.backends.learned_features import substitution_features
    from saprot_scan.encoding.tokens import AMINO_ACIDS

    length = len(sequence)
    if length == 0:
        return np.zeros((0, 20))
    per_residue, per_cell = substitution_features(sequence, coords, plddt, struct, split=True, context=context)
    predicted = ensemble.predict_grid(per_residue, per_cell)
    known = np.array([a in AMINO_ACIDS for a in sequence])
    scores = standardise(np.where(known[:, None], predicted, np.nan), sequence)
    return np.where(known[:, None], scores, np.nan)


@dataclass
class LearnedStructureScorer(StructureScorer):
    """A ``Scorer`` (backends.base) like burial-blosum (same inputs, units and caching rule), scored by trees."""

    folder: str = str(MODEL_FOLDER)
    name: str = LEARNED_SCORER_NAME
    score_meaning: ScoreMeaning = SCORE_MEANING
    _manifest: dict = field(default_factory=dict, repr=False)

    @property
    def sha256(self) -> str:
        return self._manifest.get("sha256") or load_trees(self.folder)[1]["sha256"]

    def describe(self) -> str:
        why = f" ({self.origin})" if self.origin else ""
        return (f"structure scorer {self.name}{why}: trees trained on deep mutational scans, not SaProt "
                "(models fetch saprot-35m for SaProt)")

    def check(self) -> None:
        """Load and verify the trees now, so a damaged install fails with one line before any progress."""
        self._manifest = load_trees(self.folder)[1]

    def scan(self, chain, tokens, method: str = "masked", batch_size: int | None = None,
             progress: Callable[[int, int], None] | None = None, cancel=None) -> np.ndarray:
        """(L, 20) scores; ``method`` does not change them (there is no language model to mask)."""
        plddt = None
        if getattr(tokens, "plddt_masked", False):
            from saprot_scan.encoding.plddt import plddt_values

            plddt = plddt_values(chain)
        struct = getattr(tokens, "struct", None)
        scores = learned_scores(load_trees(self.folder)[0], chain.sequence, chain.coords, plddt, struct,
                                partner_context(chain))
        if progress is not None:
            progress(len(chain), len(chain))
        return scores


def load_learned_scorer(spec: str | None = None, device: str = "auto", precision: str | None = "auto"
                        ) -> LearnedStructureScorer:
    """``load_scorer``'s loader for the learned kind (device and precision do not apply)."""
    scorer = LearnedStructureScorer(origin="named" if spec else "", folder=str(MODEL_FOLDER))
    scorer.check()
    return scorer
