//! Explains how pairs of records in a CSV compare under a model trained on that CSV.
//!
//! cargo run --release -p matching --example explain -- INPUT.csv ID_A ID_B [ID_C ID_D ...]

use matching::{Prepped, TrainSettings};
use std::fs::File;
use std::io::BufReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, ids) = args.split_first().ok_or("usage: explain INPUT.csv ID_A ID_B ...")?;
    let (all_ids, records) = matching::io::read_records(BufReader::new(File::open(input)?))?;
    let prepped = Prepped::new(&records);
    let model = prepped.train(&TrainSettings::default());
    let pos = |id: &String| all_ids.iter().position(|x| x == id).ok_or(format!("no record {id}"));
    for pair in ids.chunks(2) {
        let [a, b] = pair else { break };
        let e = prepped.explain(&model, pos(a)?, pos(b)?).ok_or("out of range")?;
        println!(
            "{a} ~ {b}: p = {:.4}, weight {:+.2} (prior {:+.2}){}",
            e.probability,
            e.match_weight,
            e.prior_weight,
            e.different_people.as_deref().map(|r| format!(" DIFFERENT: {r}")).unwrap_or_default()
        );
        for f in &e.fields {
            println!(
                "    {:+7.2}  {}{}",
                f.weight,
                f.text,
                f.note.as_deref().map(|n| format!("  [{n}]")).unwrap_or_default()
            );
        }
    }
    Ok(())
}
