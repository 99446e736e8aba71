//! Bulk de-duplication of a CSV, for the benchmark: prints one JSON line of timings.
//!
//! cargo run --release -p matching --example dedupe -- INPUT.csv --out clusters.csv [--pairs pairs.csv] [--threshold P]

use matching::{Settings, Stage};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = None;
    let mut out = None;
    let mut pairs = None;
    let mut settings = Settings::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().cloned(),
            "--pairs" => pairs = it.next().cloned(),
            "--threshold" => settings.threshold = it.next().ok_or("--threshold P")?.parse()?,
            other => input = Some(other.to_owned()),
        }
    }
    let input = input.ok_or("usage: dedupe INPUT.csv --out clusters.csv [--pairs pairs.csv]")?;
    let out = out.ok_or("--out is required")?;
    let t0 = Instant::now();
    let (ids, records) = matching::io::read_records(BufReader::new(File::open(&input)?))?;
    let load_s = t0.elapsed().as_secs_f64();
    let mut stage_start = Instant::now();
    let mut current = None;
    let mut stages: Vec<(String, f64)> = Vec::new();
    let t1 = Instant::now();
    let result = matching::dedupe(&records, &settings, |stage: Stage, _done, _total| {
        if current != Some(stage) {
            if let Some(prev) = current {
                stages.push((format!("{prev:?}"), stage_start.elapsed().as_secs_f64()));
            }
            current = Some(stage);
            stage_start = Instant::now();
        }
    });
    if let Some(prev) = current {
        stages.push((format!("{prev:?}"), stage_start.elapsed().as_secs_f64()));
    }
    let engine_s = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    matching::io::write_clusters(BufWriter::new(File::create(&out)?), &ids, &result)?;
    if let Some(p) = &pairs {
        matching::io::write_pairs(BufWriter::new(File::create(p)?), &ids, &result.pairs)?;
    }
    let write_s = t2.elapsed().as_secs_f64();
    let stage_json: Vec<String> = stages.iter().map(|(s, t)| format!("\"{}\": {:.3}", s.to_lowercase(), t)).collect();
    let per_rule: Vec<String> = result.blocking.pairs_per_rule.iter().map(u64::to_string).collect();
    let oversized: Vec<String> = result.blocking.oversized_blocks.iter().map(u64::to_string).collect();
    println!(
        "{{\"records\": {}, \"candidate_pairs\": {}, \"pairs_per_rule\": [{}], \"oversized_blocks\": [{}], \"matched_pairs\": {}, \"people\": {}, \"threshold\": {}, \"lambda\": {:e}, \"load_s\": {:.3}, \"engine_s\": {:.3}, \"write_s\": {:.3}, \"total_s\": {:.3}, \"stages_s\": {{{}}}}}",
        records.len(),
        result.candidate_pairs,
        per_rule.join(", "),
        oversized.join(", "),
        result.pairs.len(),
        result.people,
        settings.threshold,
        result.model.lambda,
        load_s,
        engine_s,
        write_s,
        t0.elapsed().as_secs_f64(),
        stage_json.join(", ")
    );
    if std::env::var_os("MATCHING_PRINT_MODEL").is_some() {
        eprintln!("{:#?}", result.model);
    }
    Ok(())
}
