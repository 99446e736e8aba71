#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `safeguard match dedupe` end to end: a CSV in, `record_id,person_id` out; twins stay
//! two people, a nickname and a day/month swap do not make a new one.

use std::collections::HashMap;
use std::process::Command;

#[test]
fn the_bulk_command_groups_records_into_people_and_keeps_twins_apart() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    // Households of background people so the model has something to learn from, then
    // the cases that matter. `cluster_id` is a decoy: the command must never read it.
    let mut csv = String::from("record_id,cluster_id,first_name,surname,dob,sex,address,town,postcode,nhs_number\n");
    let firsts = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Grace"];
    let surnames = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"];
    let mut id = 0;
    for i in 0..400 {
        let (f, s) = (firsts[i % 10], surnames[(i / 10) % 10]);
        let dob = format!("20{:02}-{:02}-{:02}", 5 + i % 15, 1 + i % 12, 1 + (i * 7) % 28);
        let address = format!("{} {} Road", 1 + i, ["Church", "Mill", "Station", "Park"][i % 4]);
        let postcode = format!("LS{} {}AB", 1 + i % 20, i % 10);
        for copy in 0..(1 + i % 2) {
            let first = if copy == 1 { f.to_uppercase() } else { f.to_string() };
            csv.push_str(&format!(
                "{id},{i},{first},{s},{dob},{},{address},Leeds,{postcode},\n",
                if i % 2 == 0 { "M" } else { "F" }
            ));
            id += 1;
        }
    }
    csv.push_str("alfred-1,X,Alfred,Scott,2011-03-04,M,12 Mill Lane,Leeds,LS6 2AB,4857773456\n");
    csv.push_str("alfie-2,Y,Alfie,Scot,04/03/2011,M,12 Mill Ln,Leeds,LS62AB,\n");
    csv.push_str("alfie-3,Z,Alfie,Scott,2011-04-03,M,12 Mill Lane,Leeds,LS6 2AB,4857773456\n");
    // Twins: same surname, date of birth, address and postcode; different first names and sexes.
    csv.push_str("twin-a,T,Lily,Scott,2016-09-09,F,12 Mill Lane,Leeds,LS6 2AB,\n");
    csv.push_str("twin-b,T,Leo,Scott,2016-09-09,M,12 Mill Lane,Leeds,LS6 2AB,\n");
    csv.push_str("twin-a2,T,Lily,Scott,2016-09-09,F,12 Mill Lane,Leeds,LS6 2AB,\n");
    std::fs::write(&input, csv).unwrap();
    let out = dir.path().join("clusters.csv");
    let pairs = dir.path().join("pairs.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_safeguard"))
        .args(["match", "dedupe"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--pairs")
        .arg(&pairs)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let clusters = std::fs::read_to_string(&out).unwrap();
    assert!(clusters.starts_with("record_id,person_id\n"));
    let person: HashMap<&str, &str> = clusters.lines().skip(1).filter_map(|l| l.split_once(',')).collect();
    assert_eq!(person.len(), id + 6, "every record is placed");
    assert_eq!(person["alfred-1"], person["alfie-2"], "nickname, surname typo, d/m/y date and a lost postcode space");
    assert_eq!(person["alfred-1"], person["alfie-3"], "day and month swapped, same NHS number");
    assert_eq!(person["twin-a"], person["twin-a2"]);
    assert_ne!(person["twin-a"], person["twin-b"], "twins are two people");
    assert_ne!(person["twin-b"], person["alfred-1"]);
    // Background person 0 has one record; person 1 two (the second in capitals).
    assert_eq!(person["1"], person["2"], "the same person in capitals");
    assert_ne!(person["0"], person["1"]);
    assert!(std::fs::read_to_string(&pairs).unwrap().starts_with("record_id_l,record_id_r,probability,match_weight\n"));

    // A threshold that is not a probability is refused before anything is read.
    let bad = Command::new(env!("CARGO_BIN_EXE_safeguard"))
        .args(["match", "dedupe"])
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("never.csv"))
        .args(["--threshold", "2"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("must be a probability between 0 and 1"));
    assert!(!dir.path().join("never.csv").exists());
}

/// `safeguard match store` lists the people recorded twice (a nickname, a typo, a date
/// written the other way round) and never twins.
#[tokio::test]
async fn the_store_command_lists_people_recorded_twice_but_not_twins() {
    use commands::{Caller, Config, Service};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").to_string_lossy().to_string();
    let store = store::Store::open(&db).await.unwrap();
    let svc = Service::new(store.clone(), std::sync::Arc::new(domain::clock::SystemClock), Config::default());
    let team =
        svc.create_team(Caller::System("test"), &commands::staff::TeamInput { name: "North".into() }).await.unwrap();
    let input = commands::staff::StaffInput {
        login: "tm1".into(),
        name: "Tara".into(),
        role: "team_manager".into(),
        team: Some(team.0),
        password: "correct horse battery".into(),
        ..Default::default()
    };
    svc.add_staff(Caller::System("test"), &input).await.unwrap();
    let tm = svc.sign_in("tm1", "correct horse battery").await.unwrap().actor;
    let person = |given: &str, family: &str, dob: &str, sex: &str| domain::person::PersonInput {
        given_name: given.into(),
        family_name: family.into(),
        dob: Some(dob.into()),
        sex: Some(sex.into()),
        ..Default::default()
    };
    let alfred = svc.register_person(&tm, &person("Alfred", "Scott", "2011-03-04", "male")).await.unwrap();
    let alfie = svc.register_person(&tm, &person("Alfie", "Scot", "2011-03-04", "male")).await.unwrap();
    let lily = svc.register_person(&tm, &person("Lily", "Hart", "2016-09-09", "female")).await.unwrap();
    let leo = svc.register_person(&tm, &person("Leo", "Hart", "2016-09-09", "male")).await.unwrap();
    for (given, family, dob) in
        [("Maya", "Patel", "2012-05-05"), ("Oscar", "Brown", "2009-11-23"), ("Ruby", "Khan", "2015-02-14")]
    {
        svc.register_person(&tm, &person(given, family, dob, "female")).await.unwrap();
    }
    store.close().await;
    let out = dir.path().join("pairs.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_safeguard"))
        .args(["match", "store", "--db", &db, "--out"])
        .arg(&out)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("person_a,person_b,name_a,name_b,probability,evidence"));
    let pairs: Vec<&str> = lines.collect();
    assert_eq!(pairs.len(), 1, "{csv}");
    let (a, b) = (alfred.reference(), alfie.reference());
    assert!(pairs[0].starts_with(&format!("{a},{b},")) || pairs[0].starts_with(&format!("{b},{a},")), "{csv}");
    assert!(pairs[0].contains("first name: nickname (Alfred ↔ Alfie)"), "{csv}");
    assert!(!csv.contains(&lily.reference()) && !csv.contains(&leo.reference()), "twins are two people: {csv}");

    // With --queue the pair listed goes into the review queue, once.
    let queue = || {
        Command::new(env!("CARGO_BIN_EXE_safeguard"))
            .args(["match", "store", "--db", &db, "--queue", "--out"])
            .arg(dir.path().join("again.csv"))
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let run = queue();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("1 new pairs put in the review queue"));
    let run = queue();
    assert!(String::from_utf8_lossy(&run.stderr).contains("0 new pairs put in the review queue (1 already"));
    let store = store::Store::open(&db).await.unwrap();
    let queued = store::duplicates::duplicate_pairs(&store, "open", 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].person_a, queued[0].person_b), (alfred.min(alfie), alfred.max(alfie)));
    store.close().await;
}
