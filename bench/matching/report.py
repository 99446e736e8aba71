#!/usr/bin/env python3
"""Renders the JSON lines written by run_bench.py as the Markdown tables of RESULTS.md.

    /work/bench-venv/bin/python bench/matching/report.py bench/matching/results
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ORDER = ["febrl1", "febrl2", "febrl3", "febrl4", "10k", "100k", "1m"]


def load(d: Path, name: str, suffix: str = "") -> dict | None:
    p = d / f"{name}{suffix}.json"
    return json.loads(p.read_text()) if p.exists() else None


def prf(x: dict) -> str:
    return f"{x['precision']:.4f} / {x['recall']:.4f} / {x['f1']:.4f}"


def main() -> None:
    d = Path(sys.argv[1])
    print("### Accuracy (engine default threshold 0.5; Splink at 0.5)\n")
    print("| dataset | records | safeguard pairs P / R / F1 | safeguard clusters P / R / F1 "
          "| Splink pairs P / R / F1 | Splink clusters (conn. comp.) P / R / F1 |")
    print("| --- | ---: | --- | --- | --- | --- |")
    for name in ORDER:
        s, sp = load(d, name), load(d, name, ".splink")
        if not s:
            continue
        sc = s["score"]
        spp = prf(sp["run"]["at_0.5"]) if sp else "—"
        spc = prf(sp["run"]["clustered_at_0.5"]) if sp and sp["run"].get("clustered_at_0.5") else "—"
        print(f"| {name} | {sc['records']:,} | {prf(sc['pairs_at_threshold'])} | "
              f"{prf(sc['clustered'])} | {spp} | {spc} |")

    print("\n### False positives that are members of the same household (synthetic sets)\n")
    print("| dataset | safeguard FP pairs (of which same household) | safeguard FP in clusters "
          "(same household) | Splink FP @0.5 (same household) |")
    print("| --- | --- | --- | --- |")
    for name in ["10k", "100k", "1m"]:
        s, sp = load(d, name), load(d, name, ".splink")
        if not s:
            continue
        p, c = s["score"]["pairs_at_threshold"], s["score"]["clustered"]
        spf = (f"{sp['run']['fp_breakdown_at_0.5']['fp_at_0.5']:,} "
               f"({sp['run']['fp_breakdown_at_0.5']['same_household']:,})") if sp else "—"
        print(f"| {name} | {p['fp']:,} ({p['same_household_fp']:,}) | {c['fp']:,} "
              f"({c['same_household_fp']:,}) | {spf} |")

    print("\n### Speed and memory (whole process under /usr/bin/time -v)\n")
    print("| dataset | safeguard candidate pairs | safeguard wall s (user+sys s) | safeguard peak RSS MiB "
          "| safeguard stages s | Splink candidate pairs | Splink wall s | Splink peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for name in ORDER:
        s, sp = load(d, name), load(d, name, ".splink")
        if not s:
            continue
        t, r = s["time"], s["run"]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages_s"].items())
        stages += f", read {r['load_s']:.1f}, write {r['write_s']:.1f}"
        spc = f"{sp['run']['candidate_pairs']:,}" if sp else "—"
        spw = f"{sp['time']['wall_s']:.1f}" if sp else "—"
        spr = f"{sp['time']['peak_rss_mib']:,.0f}" if sp else "—"
        print(f"| {name} | {r['candidate_pairs']:,} | {t['wall_s']:.2f} ({t['user_s'] + t['sys_s']:.1f}) | "
              f"{t['peak_rss_mib']:,.0f} | {stages} | {spc} | {spw} | {spr} |")

    print("\n### Single-record look-up (safeguard `Index`, 1,000 sampled records, each queried "
          "as an exact copy and as a perturbed copy)\n")
    print("| records in index | p50 ms | p95 ms | p99 ms | max ms | mean candidates | exact copy found "
          "at p ≥ 0.5 | perturbed copy found at p ≥ 0.5 | index build s | upsert/remove ms | process peak RSS MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ["10k", "100k", "1m"]:
        s = load(d, name)
        if not s or "lookup" not in s:
            continue
        q = s["lookup"]
        # (early runs named this key exact_copy_found_top; same meaning: found at p >= 0.5)
        q.setdefault("exact_copy_found_at_0.5", q.get("exact_copy_found_top"))
        print(f"| {q['records']:,} | {q['ms_p50']:.3f} | {q['ms_p95']:.3f} | {q['ms_p99']:.3f} | "
              f"{q['ms_max']:.3f} | {q['candidates_mean']:.1f} | {q['exact_copy_found_at_0.5']}/{q['queries']} | "
              f"{q['perturbed_found_at_0.5']}/{q['queries']} | {q['build_s']:.1f} | {q['update_ms_mean']:.3f} | "
              f"{q['time']['peak_rss_mib']:,.0f} |")


if __name__ == "__main__":
    main()
