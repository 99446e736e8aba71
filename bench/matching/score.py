#!/usr/bin/env python3
"""Pairwise scoring of safeguard's matcher output against ground truth (labels are used
here only, never by the engine).

    score.py TRUTH.csv CLUSTERS.csv [PAIRS.csv]

TRUTH.csv has record_id and cluster_id (and household_id for the synthetic people).
Prints one JSON line: scored-pair P/R/F1, cluster-level P/R/F1 (every pair of records put
in one person), and how many false positives are same-household pairs.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd


def pair_codes(groups: np.ndarray, n: int) -> np.ndarray:
    """All within-group pairs (i<j by record index) as i*n+j, for an integer label per record."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    out = []
    for s, e in zip(starts, ends):
        k = e - s
        if k < 2:
            continue
        idx = np.sort(order[s:e]).astype(np.int64)
        a, b = np.triu_indices(k, 1)
        out.append(idx[a] * n + idx[b])
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def prf(pred: np.ndarray, truth: np.ndarray) -> dict:
    tp = int(np.intersect1d(pred, truth, assume_unique=True).size)
    fp = int(pred.size - tp)
    fn = int(truth.size - tp)
    p = tp / pred.size if pred.size else 1.0
    r = tp / truth.size if truth.size else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"pred_pairs": int(pred.size), "tp": tp, "fp": fp, "fn": fn,
            "precision": round(p, 5), "recall": round(r, 5), "f1": round(f1, 5)}


def same_household_fp(pred: np.ndarray, truth: np.ndarray, hh: np.ndarray | None, n: int) -> int | None:
    if hh is None:
        return None
    fp = np.setdiff1d(pred, truth, assume_unique=True)
    return int((hh[fp // n] == hh[fp % n]).sum())


def score(truth_csv: str, clusters_csv: str, pairs_csv: str | None = None) -> dict:
    cols = pd.read_csv(truth_csv, nrows=0).columns
    use = ["record_id", "cluster_id"] + (["household_id"] if "household_id" in cols else [])
    t = pd.read_csv(truth_csv, usecols=use, dtype={"record_id": str})
    n = len(t)
    pos = pd.Series(np.arange(n), index=t["record_id"].to_numpy())
    truth = np.unique(pair_codes(pd.factorize(t["cluster_id"])[0], n))
    hh = pd.factorize(t["household_id"])[0] if "household_id" in t else None

    c = pd.read_csv(clusters_csv, dtype={"record_id": str})
    person = np.full(n, -1, dtype=np.int64)
    person[pos[c["record_id"]].to_numpy()] = c["person_id"].to_numpy()
    clustered = np.unique(pair_codes(person, n))
    out = {"records": n, "true_pairs": int(truth.size)}
    cl = prf(clustered, truth)
    cl["same_household_fp"] = same_household_fp(clustered, truth, hh, n)
    out["clustered"] = cl
    if pairs_csv:
        p = pd.read_csv(pairs_csv, dtype={"record_id_l": str, "record_id_r": str})
        i = pos[p["record_id_l"]].to_numpy().astype(np.int64)
        j = pos[p["record_id_r"]].to_numpy().astype(np.int64)
        codes = np.unique(np.minimum(i, j) * n + np.maximum(i, j))
        pr = prf(codes, truth)
        pr["same_household_fp"] = same_household_fp(codes, truth, hh, n)
        out["pairs_at_threshold"] = pr
    return out


if __name__ == "__main__":
    print(json.dumps(score(*sys.argv[1:4])))
