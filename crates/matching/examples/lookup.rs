//! Real-time look-up latency: trains on a CSV, builds an `Index` over every record, then
//! times single-record `candidates` calls for sampled records (an exact copy, as the Splink
//! measurement does, and a perturbed copy). Prints one JSON line.
//!
//! cargo run --release -p matching --example lookup -- INPUT.csv [--queries 1000] [--seed 7]

use matching::{Index, Record, TrainSettings};
use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

/// SplitMix64, so the sample is reproducible without a rand dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A typist's version of the record: adjacent letters of the first name swapped, the
/// postcode without its space, the date of birth written day-first with slashes.
fn perturb(r: &Record) -> Record {
    let mut q = r.clone();
    let mut chars: Vec<char> = q.first_name.chars().collect();
    if chars.len() > 3 {
        chars.swap(1, 2);
        q.first_name = chars.into_iter().collect();
    }
    q.postcode = q.postcode.replace(' ', "");
    if let Some(d) = matching::normalize::date(&q.dob) {
        q.dob = format!("{}/{}/{}", d.day, d.month, d.year);
    }
    q
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = None;
    let mut queries = 1000usize;
    let mut seed = 7u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--queries" => queries = it.next().ok_or("--queries N")?.parse()?,
            "--seed" => seed = it.next().ok_or("--seed S")?.parse()?,
            other => input = Some(other.to_owned()),
        }
    }
    let input = input.ok_or("usage: lookup INPUT.csv [--queries N] [--seed S]")?;
    let (ids, records) = matching::io::read_records(BufReader::new(File::open(&input)?))?;
    let t = Instant::now();
    let model = matching::train(&records, &TrainSettings::default());
    let train_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = Index::from_records(model, ids.iter().cloned().zip(records.iter().cloned()));
    let build_s = t.elapsed().as_secs_f64();

    let mut rng = Rng(seed);
    let mut lat_exact = Vec::with_capacity(queries);
    let mut lat_perturbed = Vec::with_capacity(queries);
    let mut candidates_total = 0usize;
    let mut self_top = 0usize;
    let mut perturbed_found = 0usize;
    for _ in 0..queries {
        let k = rng.below(records.len());
        let q = &records[k];
        let t = Instant::now();
        let c = index.candidates(q, 10);
        lat_exact.push(t.elapsed().as_secs_f64() * 1e3);
        candidates_total += c.len();
        if c.iter().any(|c| c.id == ids[k] && c.probability >= 0.5) {
            self_top += 1;
        }
        let p = perturb(q);
        let t = Instant::now();
        let c = index.candidates(&p, 10);
        lat_perturbed.push(t.elapsed().as_secs_f64() * 1e3);
        if c.iter().any(|c| c.id == ids[k] && c.probability >= 0.5) {
            perturbed_found += 1;
        }
    }
    // Keeping the index current: time replacing and removing records.
    let mut index = index;
    let t = Instant::now();
    let updates = queries.min(records.len());
    for i in 0..updates {
        let k = rng.below(records.len());
        index.upsert(ids[k].clone(), &perturb(&records[k]));
        if i % 2 == 0 {
            index.remove(&ids[k]);
        }
    }
    let update_ms = t.elapsed().as_secs_f64() * 1e3 / updates.max(1) as f64;
    lat_exact.sort_by(f64::total_cmp);
    lat_perturbed.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = lat_exact.iter().chain(&lat_perturbed).copied().collect();
    all.sort_by(f64::total_cmp);
    println!(
        "{{\"records\": {}, \"queries\": {}, \"train_s\": {:.3}, \"build_s\": {:.3}, \"ms_p50\": {:.3}, \"ms_p95\": {:.3}, \"ms_p99\": {:.3}, \"ms_max\": {:.3}, \"exact_copy_ms_p50\": {:.3}, \"exact_copy_ms_p99\": {:.3}, \"perturbed_ms_p50\": {:.3}, \"perturbed_ms_p99\": {:.3}, \"candidates_mean\": {:.2}, \"exact_copy_found_at_0.5\": {}, \"perturbed_found_at_0.5\": {}, \"update_ms_mean\": {:.4}}}",
        records.len(),
        queries,
        train_s,
        build_s,
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(f64::NAN),
        percentile(&lat_exact, 0.5),
        percentile(&lat_exact, 0.99),
        percentile(&lat_perturbed, 0.5),
        percentile(&lat_perturbed, 0.99),
        candidates_total as f64 / queries.max(1) as f64,
        self_top,
        perturbed_found,
        update_ms
    );
    Ok(())
}
