//! `safeguard match dedupe INPUT.csv --out clusters.csv [--pairs pairs.csv] [--threshold P]`:
//! the file side of bulk person matching (the engine itself is the pure `matching` crate).

use anyhow::Context as _;
use matching::{Settings, Stage};
use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

/// What a bulk run did, for the closing summary (and for callers that want to report it).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Records read.
    pub records: usize,
    /// Distinct people found.
    pub people: usize,
    /// Candidate pairs compared.
    pub candidate_pairs: u64,
    /// Pairs at or above the threshold.
    pub matched_pairs: usize,
    /// Probability threshold used.
    pub threshold: f64,
    /// Wall time in seconds, reading and writing included.
    pub seconds: f64,
}

/// A one-line progress display on stderr; silent when stderr is not a terminal (CI logs).
struct Progress {
    enabled: bool,
    last: Instant,
    current: Option<Stage>,
}

impl Progress {
    fn new() -> Self {
        let enabled = std::io::stderr().is_terminal();
        Progress { enabled, last: Instant::now() - Duration::from_secs(1), current: None }
    }

    fn update(&mut self, stage: Stage, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let changed = self.current != Some(stage);
        // Redraw at most ten times a second, and always when the stage changes.
        if !changed && self.last.elapsed() < Duration::from_millis(100) && done < total {
            return;
        }
        self.current = Some(stage);
        self.last = Instant::now();
        let label = match stage {
            Stage::Prepare => "preparing records",
            Stage::Train => "training model",
            Stage::Block => "finding candidate pairs",
            Stage::Score => "scoring pairs",
            Stage::Cluster => "grouping into people",
        };
        let width = 30usize;
        let filled = (done.min(total) * width).checked_div(total).unwrap_or(width);
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{label:<24} [{bar}] {done}/{total}\x1b[K");
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}

/// Finds the people recorded more than once in `store`: every pair of records at or
/// above `threshold` (default 0.5) that are not clearly different people (twins, or
/// people recorded as related to each other), written as CSV
/// (`person_a,person_b,name_a,name_b,probability,evidence`) to `out` or stdout, most
/// likely first. Records already merged into another are left out. Returns the people
/// compared and the pairs found.
pub async fn store_duplicates(
    store: &store::Store,
    out: Option<&Path>,
    threshold: Option<f64>,
) -> anyhow::Result<(usize, Vec<commands::matching::StoredDuplicate>)> {
    let start = Instant::now();
    let people = commands::duplicates::PeopleToCompare::read(store).await?;
    let rows = &people.rows;
    let mut progress = Progress::new();
    let pairs = people.likely_pairs(threshold, |stage, done, total| progress.update(stage, done, total));
    progress.finish();
    let names: std::collections::HashMap<_, _> =
        rows.iter().map(|r| (r.id, format!("{} {}", r.given_name, r.family_name))).collect();
    let mut w: Box<dyn std::io::Write> = match out {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut csv = csv::Writer::from_writer(&mut w);
    csv.write_record(["person_a", "person_b", "name_a", "name_b", "probability", "evidence"])?;
    for pair in &pairs {
        csv.write_record([
            pair.person_a.reference(),
            pair.person_b.reference(),
            names.get(&pair.person_a).cloned().unwrap_or_default(),
            names.get(&pair.person_b).cloned().unwrap_or_default(),
            format!("{:.4}", pair.probability),
            pair.evidence.clone(),
        ])?;
    }
    csv.flush()?;
    drop(csv);
    w.flush()?;
    eprintln!(
        "{} people recorded → {} pairs likely to be the same person (p ≥ {}) in {:.1} s",
        rows.len(),
        pairs.len(),
        threshold.unwrap_or(Settings::default().threshold),
        start.elapsed().as_secs_f64()
    );
    Ok((rows.len(), pairs))
}

/// Reads `input` (the bulk CSV format; `cluster_id`/`household_id` columns are ignored),
/// de-duplicates it and writes `record_id,person_id` to `out`, and the matching pairs to
/// `pairs` if given. `threshold` defaults to the engine's own (0.5).
pub fn dedupe(input: &Path, out: &Path, pairs: Option<&Path>, threshold: Option<f64>) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let mut settings = Settings::default();
    if let Some(t) = threshold {
        anyhow::ensure!(t > 0.0 && t < 1.0, "--threshold must be a probability between 0 and 1, got {t}");
        settings.threshold = t;
    }
    let file = File::open(input).with_context(|| format!("opening {}", input.display()))?;
    let (ids, records) =
        matching::io::read_records(BufReader::new(file)).with_context(|| format!("reading {}", input.display()))?;
    anyhow::ensure!(!records.is_empty(), "{} has no records", input.display());

    let mut progress = Progress::new();
    let result = matching::dedupe(&records, &settings, |stage, done, total| progress.update(stage, done, total));
    progress.finish();

    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    matching::io::write_clusters(BufWriter::new(file), &ids, &result)
        .with_context(|| format!("writing {}", out.display()))?;
    if let Some(path) = pairs {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        matching::io::write_pairs(BufWriter::new(file), &ids, &result.pairs)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let summary = Summary {
        records: records.len(),
        people: result.people,
        candidate_pairs: result.candidate_pairs,
        matched_pairs: result.pairs.len(),
        threshold: settings.threshold,
        seconds: start.elapsed().as_secs_f64(),
    };
    eprintln!(
        "{} records → {} people ({} candidate pairs compared, {} pairs at p ≥ {}) in {:.1} s; wrote {}",
        summary.records,
        summary.people,
        summary.candidate_pairs,
        summary.matched_pairs,
        summary.threshold,
        summary.seconds,
        out.display()
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_writes_clusters_and_pairs() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in.csv");
        let mut csv =
            String::from("record_id,cluster_id,first_name,surname,dob,sex,address,town,postcode,nhs_number\n");
        // Enough people for the model to learn from, one of them twice.
        let names = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia"];
        let surnames = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Khan", "Hall"];
        for i in 0..400 {
            csv.push_str(&format!(
                "r{i},x,{},{},{}-{:02}-{:02},M,\"{} High St, Flat {}\",Leeds,LS{} {}AB,\n",
                names[i % 8],
                surnames[(i / 8) % 8],
                1960 + i % 50,
                1 + i % 12,
                1 + i % 28,
                i,
                i % 3,
                i % 20,
                i % 10
            ));
        }
        csv.push_str("dup,x,Alfie,Scot,4/3/2011,M,\"12 Elm Grove\",Leeds,LS6 2AB,\n");
        csv.push_str("orig,y,Alfred,Scott,2011-03-04,M,\"12 Elm Grove\",Leeds,LS62AB,\n");
        std::fs::write(&input, csv)?;
        let out = dir.path().join("clusters.csv");
        let pairs = dir.path().join("pairs.csv");
        let summary = dedupe(&input, &out, Some(&pairs), None)?;
        assert_eq!(summary.records, 402);
        let clusters = std::fs::read_to_string(&out)?;
        assert!(clusters.starts_with("record_id,person_id\n"));
        let person = |id: &str| clusters.lines().find_map(|l| l.strip_prefix(&format!("{id},"))).map(str::to_owned);
        assert!(person("dup").is_some());
        assert_eq!(person("dup"), person("orig"));
        assert_ne!(person("r0"), person("r1"));
        let pairs = std::fs::read_to_string(&pairs)?;
        assert!(pairs.contains("dup,orig") || pairs.contains("orig,dup"), "{pairs}");
        assert!(dedupe(&input, &out, None, Some(1.5)).is_err());
        Ok(())
    }
}
