//! The bulk CSV format, on any `Read`/`Write` (no files here).
//!
//! Input header names: `record_id, first_name, surname, dob, sex, address, town, postcode,
//! nhs_number` (also `given_name`, `family_name`, `date_of_birth`). Every other column is
//! ignored; in particular the truth columns `cluster_id` and `household_id` of generated
//! benchmark data are never read.

use crate::dedupe::{Dedupe, ScoredPair};
use crate::record::Record;
use std::io::{Read, Write};

/// Which record field a header names, if any.
fn column(header: &str) -> Option<usize> {
    let h = header.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    Some(match h.as_str() {
        "record_id" | "id" => 0,
        "first_name" | "given_name" | "forename" | "firstname" => 1,
        "surname" | "family_name" | "last_name" | "lastname" => 2,
        "dob" | "date_of_birth" | "birth_date" => 3,
        "sex" | "gender" => 4,
        "address" => 5,
        "town" | "city" => 6,
        "postcode" | "post_code" => 7,
        "nhs_number" | "nhs" => 8,
        _ => return None,
    })
}

/// Reads records and their ids. Rows without a `record_id` column get their row number
/// (from 0). Quoted fields may contain commas, quotes and newlines.
pub fn read_records<R: Read>(input: R) -> Result<(Vec<String>, Vec<Record>), csv::Error> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let map: Vec<Option<usize>> = rdr.headers()?.iter().map(column).collect();
    let has_id = map.contains(&Some(0));
    let mut ids = Vec::new();
    let mut records = Vec::new();
    let mut row = csv::StringRecord::new();
    while rdr.read_record(&mut row)? {
        let mut r = Record::default();
        let mut id = None;
        for (value, col) in row.iter().zip(&map) {
            let Some(col) = col else { continue };
            let value = value.to_owned();
            match col {
                0 => id = Some(value),
                1 => r.first_name = value,
                2 => r.surname = value,
                3 => r.dob = value,
                4 => r.sex = value,
                5 => r.address = value,
                6 => r.town = value,
                7 => r.postcode = value,
                _ => r.nhs_number = value,
            }
        }
        let id = if has_id { id.unwrap_or_default() } else { records.len().to_string() };
        ids.push(id);
        records.push(r);
    }
    Ok((ids, records))
}

/// Writes `record_id,person_id`, one row per input record.
pub fn write_clusters<W: Write>(out: W, ids: &[String], result: &Dedupe) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["record_id", "person_id"])?;
    for (id, person) in ids.iter().zip(&result.clusters) {
        w.write_record([id.as_str(), &person.to_string()])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes `record_id_l,record_id_r,probability,match_weight` for the matching pairs.
pub fn write_pairs<W: Write>(out: W, ids: &[String], pairs: &[ScoredPair]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["record_id_l", "record_id_r", "probability", "match_weight"])?;
    let id = |i: u32| ids.get(i as usize).map_or("", String::as_str);
    for p in pairs {
        w.write_record([id(p.left), id(p.right), &format!("{:.6}", p.probability), &format!("{:.3}", p.match_weight)])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_commas_and_ignores_truth_columns() {
        let csv = "record_id,cluster_id,household_id,first_name,surname,dob,sex,address,town,postcode,nhs_number\n\
                   7,999,888,Alfie,Scot,4/3/2011,M,\"12, High St\",Leeds,LS1 1AA,\n\
                   8,999,888,\"Mary \"\"May\"\"\",Jones,,F,\"Flat 2,\n3 Oak Rd\",York,YO1 7HH,943 476 5919\n";
        let (ids, recs) = read_records(csv.as_bytes()).expect("valid csv");
        assert_eq!(ids, vec!["7", "8"]);
        assert_eq!(recs[0].first_name, "Alfie");
        assert_eq!(recs[0].address, "12, High St");
        assert_eq!(recs[0].nhs_number, "");
        assert_eq!(recs[1].first_name, "Mary \"May\"");
        assert_eq!(recs[1].address, "Flat 2,\n3 Oak Rd");
        assert_eq!(recs[1].nhs_number, "943 476 5919");
        // Nothing from cluster_id / household_id leaks into any field.
        for r in &recs {
            let all = format!("{r:?}");
            assert!(!all.contains("999") && !all.contains("888"), "{all}");
        }
    }

    #[test]
    fn accepts_alternative_headers_and_missing_id() {
        let csv = "given_name,family_name,date_of_birth,postcode\nAlfred,Scott,20110304,ls11aa\n";
        let (ids, recs) = read_records(csv.as_bytes()).expect("valid csv");
        assert_eq!(ids, vec!["0"]);
        assert_eq!(recs[0].first_name, "Alfred");
        assert_eq!(recs[0].surname, "Scott");
        assert_eq!(recs[0].dob, "20110304");
        assert_eq!(recs[0].postcode, "ls11aa");
    }

    #[test]
    fn writes_clusters_and_pairs() {
        let result = Dedupe {
            clusters: vec![0, 0, 1],
            pairs: vec![ScoredPair { left: 0, right: 1, probability: 0.99, match_weight: 6.6 }],
            model: crate::Model::untrained(),
            candidate_pairs: 1,
            blocking: Default::default(),
            people: 2,
        };
        let ids: Vec<String> = vec!["a".into(), "b,c".into(), "d".into()];
        let mut out = Vec::new();
        write_clusters(&mut out, &ids, &result).expect("write");
        assert_eq!(String::from_utf8_lossy(&out), "record_id,person_id\na,0\n\"b,c\",0\nd,1\n");
        let mut out = Vec::new();
        write_pairs(&mut out, &ids, &result.pairs).expect("write");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "record_id_l,record_id_r,probability,match_weight\na,\"b,c\",0.990000,6.600\n"
        );
    }
}
