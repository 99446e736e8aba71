//! End-to-end behaviour of the engine: training without labels, the real-time index with
//! explanations, bulk de-duplication and the twin rules.

use matching::{Index, Record, Settings, TrainSettings};

/// Deterministic little world: people in households, some with a second, slightly different
/// record. Only used to give the model something to learn from.
fn world(people: usize) -> Vec<Record> {
    const FIRST: &[(&str, &str)] = &[
        ("Oliver", "M"),
        ("George", "M"),
        ("Harry", "M"),
        ("Jack", "M"),
        ("Noah", "M"),
        ("Leo", "M"),
        ("Oscar", "M"),
        ("Charlie", "M"),
        ("Thomas", "M"),
        ("William", "M"),
        ("James", "M"),
        ("Henry", "M"),
        ("Arthur", "M"),
        ("Isaac", "M"),
        ("Ethan", "M"),
        ("Olivia", "F"),
        ("Amelia", "F"),
        ("Isla", "F"),
        ("Ava", "F"),
        ("Mia", "F"),
        ("Ivy", "F"),
        ("Lily", "F"),
        ("Grace", "F"),
        ("Freya", "F"),
        ("Emily", "F"),
        ("Ella", "F"),
        ("Poppy", "F"),
        ("Evie", "F"),
        ("Sophie", "F"),
        ("Ruby", "F"),
    ];
    const SURNAMES: &[&str] = &[
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Walker",
        "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Lewis", "Martin",
        "Jackson", "Clarke", "Khan", "Turner", "Hill", "Cooper", "Ward", "Morris", "Moore", "King", "Baker",
        "Harrison",
    ];
    const STREETS: &[&str] = &[
        "High Street",
        "Station Road",
        "Church Lane",
        "Park Avenue",
        "Mill Road",
        "Oak Close",
        "Victoria Road",
        "Green Lane",
        "Manor Drive",
        "Kings Road",
        "Queens Avenue",
        "Elm Grove",
    ];
    const TOWNS: &[(&str, &str)] = &[
        ("Leeds", "LS"),
        ("Hull", "HU"),
        ("York", "YO"),
        ("Bristol", "BS"),
        ("Derby", "DE"),
        ("Luton", "LU"),
        ("Bath", "BA"),
        ("Wigan", "WN"),
    ];
    const NICKNAMES: &[(&str, &str)] = &[
        ("Oliver", "Ollie"),
        ("Harry", "Henry"),
        ("Charlie", "Charles"),
        ("Thomas", "Tom"),
        ("William", "Will"),
        ("James", "Jim"),
        ("Henry", "Hal"),
        ("Isaac", "Zac"),
        ("Olivia", "Liv"),
        ("Amelia", "Millie"),
        ("Evie", "Evelyn"),
        ("Sophie", "Sophia"),
        ("Ella", "Eleanor"),
        ("Arthur", "Art"),
    ];
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut rnd = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut out = Vec::new();
    let mut p = 0;
    while p < people {
        let surname = SURNAMES[rnd(SURNAMES.len())];
        let (town, area) = TOWNS[rnd(TOWNS.len())];
        let number = 1 + rnd(90);
        let street = STREETS[rnd(STREETS.len())];
        let district = 1 + rnd(20);
        let postcode =
            format!("{area}{district} {}{}{}", rnd(10), ["A", "B", "D", "E"][rnd(4)], ["F", "G", "H", "J"][rnd(4)]);
        let size = 1 + rnd(4);
        for _ in 0..size {
            let (first, sex) = FIRST[rnd(FIRST.len())];
            let dob = format!("{}-{:02}-{:02}", 1965 + rnd(58), 1 + rnd(12), 1 + rnd(28));
            let nhs = if rnd(3) == 0 { String::new() } else { format!("{}", 4_000_000_000u64 + (p as u64) * 7919) };
            let base = Record {
                first_name: first.into(),
                surname: surname.into(),
                dob,
                sex: sex.into(),
                address: format!("{number} {street}"),
                town: town.into(),
                postcode: postcode.clone(),
                nhs_number: nhs,
            };
            if rnd(2) == 0 {
                let mut dup = base.clone();
                match rnd(8) {
                    0 => dup.surname = dup.surname.to_uppercase(),
                    1 => dup.address = dup.address.replace("Road", "Rd").replace("Street", "St"),
                    2 => dup.postcode = dup.postcode.replace(' ', ""),
                    3 => dup.nhs_number.clear(),
                    4 => {
                        // A nickname, as relatives and schools write them.
                        let nick = NICKNAMES.iter().find(|(f, _)| *f == first).map_or(first, |(_, n)| n);
                        dup.first_name = nick.to_string();
                    }
                    5 => {
                        // A typo: one letter of the surname dropped.
                        let mut s: Vec<char> = dup.surname.chars().collect();
                        if s.len() > 4 {
                            s.remove(s.len() - 2);
                        }
                        dup.surname = s.into_iter().collect();
                    }
                    6 => {
                        // Day and month swapped.
                        let p: Vec<&str> = base.dob.split('-').collect();
                        dup.dob = format!("{}-{}-{}", p[0], p[2], p[1]);
                    }
                    _ => {
                        dup.address.clear();
                        dup.town.clear();
                        dup.postcode.clear();
                    }
                }
                out.push(dup);
            }
            out.push(base);
            p += 1;
        }
    }
    out
}

/// Smaller training samples: the tests run unoptimised.
fn quick() -> TrainSettings {
    TrainSettings { u_pairs: 100_000, em_pairs: 60_000, seed: 42 }
}

fn rec(first: &str, surname: &str, dob: &str, sex: &str, address: &str, postcode: &str) -> Record {
    Record {
        first_name: first.into(),
        surname: surname.into(),
        dob: dob.into(),
        sex: sex.into(),
        address: address.into(),
        town: if address.is_empty() { String::new() } else { "Leeds".into() },
        postcode: postcode.into(),
        nhs_number: String::new(),
    }
}

#[test]
fn alfie_scot_finds_alfred_scott_with_an_explanation() {
    let mut records = world(3000);
    records.push(rec("Alfred", "Scott", "2011-03-04", "M", "12 Elm Grove", "LS6 2AB"));
    let model = matching::train(&records, &quick());
    let index = Index::from_records(model, records.iter().cloned().enumerate().map(|(i, r)| (i as u64, r)));
    let alfred_id = (records.len() - 1) as u64;

    let query = rec("Alfie", "Scot", "4/3/2011", "", "", "");
    let found = index.candidates(&query, 5);
    let top = found.first().expect("a candidate");
    assert_eq!(top.id, alfred_id, "Alfred Scott must be the best candidate: {found:#?}");
    assert!(top.probability >= 0.5, "probability {}", top.probability);
    let e = &top.explanation;
    let first = e.field("first name").expect("first name evidence");
    assert_eq!(first.level, "nickname");
    assert_eq!(first.text, "first name: nickname (Alfie ↔ Alfred)");
    assert!(first.weight > 0.0);
    let surname = e.field("surname").expect("surname evidence");
    assert_eq!(surname.level, "similar spelling");
    assert_eq!(surname.text, "surname: similar spelling (Scot ↔ Scott)");
    let dob = e.field("date of birth").expect("dob evidence");
    assert_eq!(dob.level, "exact");
    assert_eq!(e.field("address").map(|f| f.level), Some("missing"));
    assert_eq!(e.field("address").map(|f| f.weight), Some(0.0));
    // The parts add up to the total.
    let sum: f64 = e.prior_weight + e.fields.iter().map(|f| f.weight).sum::<f64>();
    assert!((sum - e.match_weight).abs() < 0.1, "{sum} vs {}", e.match_weight);
    // It serialises for the web API.
    let json = serde_json::to_string(e).expect("json");
    assert!(json.contains("\"first name: nickname (Alfie ↔ Alfred)\""), "{json}");
}

#[test]
fn index_upsert_and_remove_keep_it_current() {
    let records = world(1500);
    let model = matching::train(&records, &quick());
    let mut index: Index<String> = Index::new(model);
    for (i, r) in records.iter().enumerate() {
        index.upsert(format!("r{i}"), r);
    }
    let n = index.len();
    let zoe = rec("Zoë", "Quixley", "2016-07-09", "F", "3 Oak Close", "HU4 1AB");
    assert!(index.candidates(&zoe, 3).is_empty());
    index.upsert("zoe".into(), &zoe);
    assert_eq!(index.len(), n + 1);
    let typo = rec("Zoe", "Quixly", "09/07/2016", "F", "3 Oak Cl", "hu41ab");
    let found = index.candidates(&typo, 3);
    assert_eq!(found.first().map(|c| c.id.as_str()), Some("zoe"));
    // Replacing the record changes what it matches.
    index.upsert("zoe".into(), &rec("Albert", "Quixley", "1950-01-01", "M", "", ""));
    assert_eq!(index.len(), n + 1);
    assert!(index.candidates(&typo, 3).iter().all(|c| c.id != "zoe" || c.probability < 0.5));
    assert!(index.remove(&"zoe".to_string()));
    assert!(!index.remove(&"zoe".to_string()));
    assert!(index.candidates(&typo, 3).iter().all(|c| c.id != "zoe"));
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Index<u64>>();
    assert_send_sync::<Index<String>>();
    assert_send_sync::<std::sync::RwLock<Index<u64>>>();
}

#[test]
fn twins_never_merge_even_when_chained() {
    let mut records = world(3000);
    let base = records.len();
    // Twins: same surname, address, postcode and date of birth; different names and sexes.
    records.push(rec("Jack", "Pemberton", "2015-05-05", "M", "7 Mill Road", "LS9 3TS"));
    records.push(rec("Emily", "Pemberton", "2015-05-05", "F", "7 Mill Road", "LS9 3TS"));
    // Same-sex twins with unrelated names.
    records.push(rec("Harry", "Pemberton", "2015-05-05", "M", "7 Mill Road", "LS9 3TS"));
    // A second record of each, as other agencies send them.
    records.push(rec("JACK", "PEMBERTON", "05/05/2015", "M", "7 Mill Rd", "LS93TS"));
    records.push(rec("Emily", "Pemberton", "2015-05-05", "", "7 Mill Road", "LS9 3TS"));
    // Vague records that look like any of them: no first name, no sex.
    records.push(rec("", "Pemberton", "2015-05-05", "", "7 Mill Road", "LS9 3TS"));
    records.push(rec("", "Pemberton", "5/5/2015", "", "7 Mill Rd", "LS9 3TS"));
    let out = matching::dedupe(&records, &Settings { train: quick(), ..Settings::default() }, |_, _, _| {});
    let person = |k: usize| out.clusters[base + k];
    assert_ne!(person(0), person(1), "Jack and Emily are twins, not one person");
    assert_ne!(person(0), person(2), "Jack and Harry are twins, not one person");
    assert_ne!(person(1), person(2), "Emily and Harry are twins, not one person");
    assert_eq!(person(0), person(3), "Jack's two records are one person");
    assert_eq!(person(1), person(4), "Emily's two records are one person");
    // However the vague records were placed, no person contains two twins.
    for k in [5, 6] {
        let with: Vec<usize> = [0, 1, 2].into_iter().filter(|&t| person(t) == person(k)).collect();
        assert!(with.len() <= 1, "vague record {k} chained twins {with:?}");
    }
    // No scored pair joins two twins either.
    let twin = |i: u32| [base, base + 1, base + 2].contains(&(i as usize));
    for p in &out.pairs {
        if twin(p.left) && twin(p.right) {
            panic!("pair {p:?} links twins");
        }
    }
}

#[test]
fn a_misfiled_nhs_number_does_not_merge_twins_of_another_sex() {
    let mut records = world(3000);
    let base = records.len();
    let with_nhs = |mut r: Record, nhs: &str| {
        r.nhs_number = nhs.into();
        r
    };
    // Jack, with his valid NHS number.
    records.push(with_nhs(rec("Jack", "Pemberton", "2015-05-05", "M", "7 Mill Road", "LS9 3TS"), "401 023 2137"));
    // His twin sister Emily: two records filed under Jack's NHS number (they join Jack's
    // record by it: the same number outweighs the twin rule), and one with no sex and no
    // number.
    for _ in 0..2 {
        records.push(with_nhs(rec("Emily", "Pemberton", "2015-05-05", "F", "7 Mill Road", "LS9 3TS"), "4010232137"));
    }
    records.push(rec("Emily", "Pemberton", "5/5/2015", "", "7 Mill Rd", "LS9 3TS"));
    let out = matching::dedupe(&records, &Settings { train: quick(), ..Settings::default() }, |_, _, _| {});
    let person = |k: usize| out.clusters[base + k];
    // Jack's person holds more records named Emily than named Jack, but they are recorded
    // as another sex than Jack, so they cannot vouch that "Emily" is one of Jack's names.
    assert_ne!(person(0), person(3), "Emily's record must not follow the misfiled ones to Jack");
}

#[test]
fn a_record_with_a_replaced_first_name_does_not_split_a_person() {
    let mut records = world(3000);
    let base = records.len();
    let with_nhs = |mut r: Record, nhs: &str| {
        r.nhs_number = nhs.into();
        r
    };
    // One person (no sex recorded): three records as Liam, one whose first name was replaced
    // (it joins by the shared NHS number), and one as Liam with another number.
    for _ in 0..3 {
        records.push(with_nhs(rec("Liam", "Waller", "1992-07-06", "", "37 Blacket Street", "LS9 3TS"), "612 345 6784"));
    }
    records.push(with_nhs(rec("Elton", "Waller", "1992-07-06", "", "37 Blacket Street", "LS9 3TS"), "6123456784"));
    records.push(rec("Liam", "Waller", "06/07/1992", "", "37 Blacket St", "LS9 3TS"));
    let out = matching::dedupe(&records, &Settings { train: quick(), ..Settings::default() }, |_, _, _| {});
    let person = |k: usize| out.clusters[base + k];
    assert!((1..5).all(|k| person(k) == person(0)), "{:?}", (0..5).map(person).collect::<Vec<_>>());
}

#[test]
fn dedupe_merges_obvious_duplicates_and_keeps_strangers_apart() {
    let mut records = world(2000);
    let base = records.len();
    records.push(rec("Charlotte", "Ashworth", "2009-10-02", "F", "41 Station Road", "BS3 4DE"));
    records.push(rec("Lottie", "Ashworth", "02/10/2009", "F", "41 Station Rd", "bs34de"));
    records.push(rec("Charlotte", "Ashwort", "2009-02-10", "F", "", "BS3 4DE"));
    records.push(rec("Charlotte", "Ashworth", "1971-06-30", "F", "9 Kings Road", "WN2 1HG"));
    let mut progress_calls = 0;
    let out =
        matching::dedupe(&records, &Settings { train: quick(), ..Settings::default() }, |_, _, _| progress_calls += 1);
    assert!(progress_calls >= 5);
    let person = |k: usize| out.clusters[base + k];
    assert_eq!(person(0), person(1), "nickname, abbreviations, UK date");
    assert_eq!(person(0), person(2), "surname typo, day/month swap");
    assert_ne!(person(0), person(3), "same name, different date of birth and address");
    assert_eq!(out.clusters.len(), records.len());
    assert!(out.people < records.len());
}

#[test]
fn training_is_deterministic() {
    let records = world(800);
    let s = quick();
    assert_eq!(matching::train(&records, &s), matching::train(&records, &s));
}

#[test]
fn the_reference_model_finds_alfred_among_a_handful_of_people() {
    let model = matching::Model::reference();
    assert_ne!(serde_json::to_string(&model).unwrap(), serde_json::to_string(&matching::Model::untrained()).unwrap());
    let people = [
        rec("Alfred", "Scott", "2011-03-04", "M", "12 Elm Grove", "LS6 2AB"),
        rec("Amelia", "Scott", "2013-06-01", "F", "12 Elm Grove", "LS6 2AB"),
        rec("Oliver", "Smith", "2011-03-04", "M", "4 Mill Lane", "LS2 9JT"),
    ];
    let index = Index::from_records(model, people.iter().cloned().enumerate().map(|(i, r)| (i as u64, r)));
    let found = index.candidates(&rec("Alfie", "Scot", "4/3/2011", "", "", ""), 5);
    assert_eq!(found.first().map(|c| c.id), Some(0), "{found:#?}");
    assert!(found[0].probability >= 0.5, "{}", found[0].probability);
    assert!(found.iter().all(|c| c.id != 2 || c.probability < 0.5), "same birthday, different person: {found:#?}");
}
