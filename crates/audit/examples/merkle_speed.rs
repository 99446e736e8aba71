//! How fast the audit log verifies and proves, against raw SHA-256 on this machine.
//!
//! `cargo run --release -p audit --example merkle_speed -- [N]` (N entries, default 1,000,000).

use std::hint::black_box;
use std::time::{Duration, Instant};

use audit::merkle::{MemoryNodes, consistency_plan, consistency_proof, inclusion_plan, inclusion_proof, leaf_hash};
use audit::{EntryRef, Envelope, GENESIS, Hash, LogVerifier, canonical, chain_hash};
use sha2::{Digest, Sha256};

/// Entries are made and verified in chunks of this many (a few MB, so they stay in cache
/// for both timed passes, which then compare hashing rather than memory).
const CHUNK: u64 = 1 << 12;

fn main() {
    let n: u64 = match std::env::args().nth(1).map(|a| a.replace(['_', ','], "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: merkle_speed [N > 0]");
            std::process::exit(2);
        }
    };

    println!("raw SHA-256 (sha2 crate, as the verifier uses)");
    let raw_1k = sha256_throughput(1024);
    let raw_300 = sha256_throughput(300);
    println!("  1 KiB buffers: {raw_1k:8.1} MB/s");
    println!("  300 B buffers: {raw_300:8.1} MB/s");

    println!("\nverifying {n} entries of about 300 bytes (chain + leaf hashes + tree)");
    let (nodes, verified) = verify_synthetic_log(n);

    println!("\nproofs over a MemoryNodes tree of {} leaves (1000 random each)", nodes.size());
    proof_times(&nodes, verified);
}

/// MB/s of SHA-256 over buffers of `len` bytes, for about a second.
fn sha256_throughput(len: usize) -> f64 {
    let buf = vec![0x5au8; len];
    let mut rounds = 0u64;
    let mut acc = [0u8; 32];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..1000 {
            let d: Hash = Sha256::digest(black_box(&buf)).into();
            acc[0] ^= d[0];
        }
        rounds += 1000;
    }
    black_box(acc);
    (rounds * len as u64) as f64 / start.elapsed().as_secs_f64() / 1e6
}

/// One synthetic stored entry.
struct Stored {
    entry: Vec<u8>,
    prev_hash: String,
    hash: String,
    leaf_hash: String,
}

/// Builds the log chunk by chunk (untimed), verifies each chunk (timed), and keeps the
/// tree's nodes for the proof benchmark.
fn verify_synthetic_log(n: u64) -> (MemoryNodes, Hash) {
    // Pads the events so that the whole entry is about 300 bytes, as real ones are.
    let events = canonical(&serde_json::json!([{
        "type": "referral.decided",
        "referral": 4711,
        "decision": "accepted",
        "note": "x".repeat(98),
    }]))
    .unwrap_or_else(|e| panic!("events: {e}"));
    let mut nodes = MemoryNodes::with_capacity(n);
    let mut verifier = LogVerifier::new();
    let mut prev = GENESIS;
    let (mut timed, mut raw_timed, mut entry_bytes) = (Duration::ZERO, Duration::ZERO, 0u64);
    let mut seq = 0u64;
    while seq < n {
        let chunk: Vec<Stored> = (seq + 1..=(seq + CHUNK).min(n))
            .map(|s| {
                let subject = format!("referral:{}", s % 100_000);
                let entry = Envelope {
                    seq: s as i64,
                    at: "2026-03-02T09:00:00Z",
                    actor: "staff:12",
                    action: "referral.decide",
                    subject: &subject,
                    events: &events,
                }
                .encode()
                .expect("an envelope encodes");
                let hash = chain_hash(&prev, &entry);
                let leaf = leaf_hash(&entry);
                nodes.push(leaf);
                let stored = Stored {
                    prev_hash: hex::encode(prev),
                    hash: hex::encode(hash),
                    leaf_hash: hex::encode(leaf),
                    entry,
                };
                prev = hash;
                stored
            })
            .collect();
        seq += chunk.len() as u64;
        // Raw SHA-256 over the same entries, chunk by chunk alongside the verifier, so that
        // both see the same machine (other work on it slows both alike). First touch every
        // byte either pass reads, so that neither pays for bringing the chunk into cache.
        let touched = chunk.iter().fold(0u8, |acc, e| {
            [&e.entry[..], e.prev_hash.as_bytes(), e.hash.as_bytes(), e.leaf_hash.as_bytes()]
                .iter()
                .fold(acc, |acc, b| b.iter().fold(acc, |acc, x| acc ^ x))
        });
        black_box(touched);
        let start = Instant::now();
        let mut acc = 0u8;
        for e in &chunk {
            acc ^= Sha256::digest(black_box(&e.entry))[0];
        }
        black_box(acc);
        raw_timed += start.elapsed();
        let start = Instant::now();
        for e in &chunk {
            let r = verifier.push_entry(EntryRef {
                seq: verifier.size() as i64 + 1,
                entry: &e.entry,
                leaf_hash: Some(&e.leaf_hash),
                prev_hash: &e.prev_hash,
                hash: &e.hash,
            });
            if let Err(e) = r {
                panic!("{e}");
            }
        }
        timed += start.elapsed();
        entry_bytes += chunk.iter().map(|e| e.entry.len() as u64).sum::<u64>();
    }
    let root = verifier.root_at_current_size();
    assert_eq!(root, nodes.root(), "the verifier's root differs from the tree's");

    // Bytes hashed: each entry once as a leaf (0x00 ‖ entry) and once in the chain
    // (32-byte previous hash ‖ entry); each of the n − popcount(n) interior nodes
    // completed as 0x01 ‖ left ‖ right (65 bytes).
    let interior = n - u64::from(n.count_ones());
    let hashed = (entry_bytes + n) + (entry_bytes + 32 * n) + 65 * interior;
    let secs = timed.as_secs_f64();
    let mbs = hashed as f64 / secs / 1e6;
    println!("  average entry:   {:.0} bytes", entry_bytes as f64 / n as f64);
    println!("  time:            {secs:.2} s (verification only; building the log is not counted)");
    println!("  entries/s:       {:.0}", n as f64 / secs);
    println!("  bytes hashed:    {:.1} MB ({:.0} per entry)", hashed as f64 / 1e6, hashed as f64 / n as f64);
    println!("  throughput:      {mbs:.1} MB/s hashed");
    let raw = entry_bytes as f64 / raw_timed.as_secs_f64() / 1e6;
    println!(
        "  vs raw SHA-256:  {:.0}% of raw SHA-256 over the same entries, measured alongside ({raw:.1} MB/s)",
        100.0 * mbs / raw
    );
    (nodes, root)
}

/// xorshift64*: deterministic, dependency-free randomness for picking proofs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration, Duration) {
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.99), at(1.0))
}

fn proof_times(nodes: &MemoryNodes, root: Hash) {
    let size = nodes.size();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut times, mut reads) = (Vec::with_capacity(1000), 0usize);
    let mut max_reads = 0;
    for _ in 0..1000 {
        let index = rng.below(size);
        let start = Instant::now();
        let proof = inclusion_proof(index, size, nodes).unwrap_or_else(|e| panic!("{e}"));
        times.push(start.elapsed());
        let keys = inclusion_plan(index, size).map(|p| p.keys().len()).unwrap_or(0);
        reads += keys;
        max_reads = max_reads.max(keys);
        let leaf = nodes.node(0, index).copied().unwrap_or_default();
        if let Err(e) = audit::merkle::verify_inclusion(&leaf, index, size, &proof, &root) {
            panic!("{e}");
        }
    }
    let (p50, p99, max) = percentiles(times);
    println!(
        "  inclusion:   p50 {p50:>9.2?}  p99 {p99:>9.2?}  max {max:>9.2?}  node reads: mean {:.1}, max {max_reads} (2·log2 n = {:.1})",
        reads as f64 / 1000.0,
        2.0 * (size as f64).log2()
    );

    let (mut times, mut reads, mut max_reads) = (Vec::with_capacity(1000), 0usize, 0);
    for _ in 0..1000 {
        let old = 1 + rng.below(size);
        let start = Instant::now();
        let proof = consistency_proof(old, size, nodes).unwrap_or_else(|e| panic!("{e}"));
        times.push(start.elapsed());
        black_box(proof);
        let keys = consistency_plan(old, size).map(|p| p.keys().len()).unwrap_or(0);
        reads += keys;
        max_reads = max_reads.max(keys);
    }
    let (p50, p99, max) = percentiles(times);
    println!(
        "  consistency: p50 {p50:>9.2?}  p99 {p99:>9.2?}  max {max:>9.2?}  node reads: mean {:.1}, max {max_reads}",
        reads as f64 / 1000.0
    );
}
