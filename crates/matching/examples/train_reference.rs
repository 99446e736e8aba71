//! Trains the reference model shipped as `data/reference_model.json`: the model a store
//! uses until it holds enough people to learn its own.
//!
//! cargo run --release -p matching --example train_reference -- people_100k.csv > crates/matching/data/reference_model.json
//!
//! The shipped file was trained (without labels) on 100,000 synthetic UK people from
//! `../shared/bench/gen_people.py --n 100000 --seed 1`.

use std::fs::File;
use std::io::BufReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = std::env::args().nth(1).ok_or("usage: train_reference INPUT.csv")?;
    let (_, records) = matching::io::read_records(BufReader::new(File::open(&input)?))?;
    let model = matching::train(&records, &matching::TrainSettings::default());
    println!("{}", serde_json::to_string_pretty(&model)?);
    Ok(())
}
