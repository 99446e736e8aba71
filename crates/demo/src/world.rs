//! The families of the demo authority and the referrals that will be made about them,
//! planned up front from the seed. Nothing here touches the store; the simulation in
//! [`super::sim`] turns the plan into commands.

use super::text::{self, LISTS};
use domain::referral::{Decision, ReferralSource};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// Picks an index with the given weights.
pub(crate) fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

/// Picks one of a non-empty static list.
pub(crate) fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    *items.choose(rng).expect("demo lists are never empty")
}

/// A person as the plan knows them.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub given: String,
    pub family: String,
    pub dob: Date,
    /// Whether the date of birth is only an estimate.
    pub dob_estimated: bool,
    pub female: bool,
    pub nhs: Option<String>,
    pub upn: Option<String>,
    /// Another name the child is known by (a parent's surname, usually).
    pub alias: Option<(String, String)>,
}

impl Person {
    /// The age in whole years on `day`.
    pub fn age_on(&self, day: Date) -> i64 {
        let mut years = i64::from(day.year() - self.dob.year());
        if (day.month(), day.day()) < (self.dob.month(), self.dob.day()) {
            years -= 1;
        }
        years
    }
}

/// How an adult is related to the children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdultRole {
    Mother,
    Father,
    StepParent,
    PartnerOfParent,
}

/// An adult in or around the household.
#[derive(Debug, Clone)]
pub(crate) struct Adult {
    pub person: Person,
    pub role: AdultRole,
    /// Lives elsewhere (a separated father), at this address.
    pub elsewhere: Option<Address>,
}

/// A house and postcode in Elmsford.
#[derive(Debug, Clone)]
pub(crate) struct Address {
    pub line: String,
    pub postcode: String,
}

/// A household: children sharing a family name, the adults around them, where they live.
#[derive(Debug, Clone)]
pub(crate) struct Family {
    /// Index into the teams: every referral about the family goes to that team's front door.
    pub team: usize,
    pub children: Vec<Person>,
    pub adults: Vec<Adult>,
    pub address: Address,
    /// Where they lived before moving (and when they moved).
    pub previous: Option<(Address, Date)>,
    /// How likely a visit finds nobody in (families who avoid contact are higher).
    pub no_access: f64,
    /// How likely the worker gets in but does not see the child.
    pub not_seen: f64,
}

impl Family {
    /// The main carer's given name, for notes.
    pub fn carer_name(&self) -> &str {
        self.adults.first().map(|a| a.person.given.as_str()).unwrap_or("the carer")
    }
}

/// A referral the plan will make.
#[derive(Debug, Clone)]
pub(crate) struct PlannedReferral {
    pub family: usize,
    /// Indexes into the family's children.
    pub children: Vec<usize>,
    pub at: Timestamp,
    pub source: ReferralSource,
    /// Made by the partner user of that agency through the service, not phoned in.
    pub via_partner: bool,
    pub referrer: Option<String>,
    pub concern: String,
    pub categories: Vec<&'static str>,
    pub decision: Decision,
    /// Still waiting for a decision today.
    pub hold_decision: bool,
    /// Decided, but still waiting for a worker today.
    pub hold_allocation: bool,
}

/// The whole plan.
pub(crate) struct Plan {
    pub families: Vec<Family>,
    pub referrals: Vec<PlannedReferral>,
}

/// How families divide between the teams' front doors.
const TEAM_WEIGHTS: [u32; 4] = [45, 22, 21, 12];

/// Sources as shares of referrals (police about 30%, schools 20%, health 15%…).
const SOURCES: [(ReferralSource, u32); 8] = [
    (ReferralSource::Police, 30),
    (ReferralSource::School, 20),
    (ReferralSource::Health, 15),
    (ReferralSource::Relative, 9),
    (ReferralSource::Neighbour, 6),
    (ReferralSource::Anonymous, 8),
    (ReferralSource::SelfReferral, 3),
    (ReferralSource::Other, 9),
];

/// NHS England's test range (999…) with a valid modulus-11 check digit.
fn nhs_number(rng: &mut ChaCha8Rng) -> String {
    loop {
        let mut d = [9u32, 9, 9, 0, 0, 0, 0, 0, 0];
        for x in d.iter_mut().skip(3) {
            *x = rng.random_range(0..10);
        }
        let sum: u32 = d.iter().enumerate().map(|(i, v)| v * (10 - i as u32)).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        let digits: String = d.iter().chain(std::iter::once(&check)).map(|v| char::from(b'0' + *v as u8)).collect();
        return digits;
    }
}

/// A UPN for a pupil of a fictional local authority (code 999), with its check letter.
fn upn(rng: &mut ChaCha8Rng, entry_year: i16) -> String {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";
    let body = format!(
        "999{:04}{:02}{:03}",
        rng.random_range(2000..2999),
        entry_year.rem_euclid(100),
        rng.random_range(0..1000)
    );
    let sum: u32 = body.bytes().enumerate().map(|(i, c)| u32::from(c - b'0') * (i as u32 + 2)).sum();
    format!("{}{body}", LETTERS[(sum % 23) as usize] as char)
}

fn address(rng: &mut ChaCha8Rng) -> Address {
    const INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let street = pick(rng, &LISTS.streets);
    let line = if street.ends_with("Flats") || street.ends_with("Court") || street.ends_with("House") {
        format!("Flat {}, {street}", rng.random_range(1..40))
    } else {
        format!("{} {street}", rng.random_range(1..180))
    };
    let postcode = format!(
        "EF{} {}{}{}",
        rng.random_range(1..8),
        rng.random_range(1..10),
        INWARD[rng.random_range(0..INWARD.len())] as char,
        INWARD[rng.random_range(0..INWARD.len())] as char
    );
    Address { line, postcode }
}

fn given(rng: &mut ChaCha8Rng, female: bool) -> String {
    pick(rng, if female { &LISTS.female } else { &LISTS.male }).to_string()
}

fn date_days_before(day: Date, days: i64) -> Date {
    day.checked_sub(days.days()).unwrap_or(day)
}

fn child(rng: &mut ChaCha8Rng, family: &str, dob: Date) -> Person {
    let female = rng.random_bool(0.5);
    Person {
        given: given(rng, female),
        family: family.to_string(),
        dob,
        dob_estimated: rng.random_bool(0.03),
        female,
        nhs: rng.random_bool(0.85).then(|| nhs_number(rng)),
        upn: None,
        alias: None,
    }
}

fn adult(rng: &mut ChaCha8Rng, family: &str, female: bool, eldest_dob: Date, older_by: (i64, i64)) -> Person {
    let years = rng.random_range(older_by.0..older_by.1);
    let dob = date_days_before(eldest_dob, years * 365 + rng.random_range(0..365));
    Person {
        given: given(rng, female),
        family: family.to_string(),
        dob,
        dob_estimated: false,
        female,
        nhs: rng.random_bool(0.7).then(|| nhs_number(rng)),
        upn: None,
        alias: None,
    }
}

/// A family first known to the authority on `first_day`.
fn family(rng: &mut ChaCha8Rng, team: usize, first_day: Date) -> Family {
    let surname = pick(rng, &LISTS.family).to_string();
    let n = 1 + weighted(rng, &[40, 30, 19, 8, 3]);
    // Looked-after children tend to be older when they come into care.
    let eldest_age_days = if team == 3 { rng.random_range(2 * 365..16 * 365) } else { rng.random_range(60..16 * 365) };
    let mut dob = date_days_before(first_day, eldest_age_days);
    let mut children = Vec::new();
    for _ in 0..n {
        children.push(child(rng, &surname, dob));
        // The next is 1–4 years younger, and born by now.
        let next = dob.checked_add(rng.random_range(380..4 * 365).days()).unwrap_or(dob);
        if next >= first_day {
            break;
        }
        dob = next;
    }
    // School-age children referred by a school often come with their pupil number.
    for c in children.iter_mut() {
        if c.age_on(first_day) >= 5 && rng.random_bool(0.5) {
            c.upn = Some(upn(rng, c.dob.year() + 4));
        }
    }
    let eldest = children[0].dob;
    let mother_surname = if rng.random_bool(0.2) { pick(rng, &LISTS.family).to_string() } else { surname.clone() };
    let mut adults = vec![Adult {
        person: adult(rng, &mother_surname, true, eldest, (19, 38)),
        role: AdultRole::Mother,
        elsewhere: None,
    }];
    match weighted(rng, &[45, 25, 30]) {
        0 => adults.push(Adult {
            person: adult(rng, &surname, false, eldest, (18, 40)),
            role: AdultRole::Father,
            elsewhere: None,
        }),
        1 => adults.push(Adult {
            person: adult(rng, &surname, false, eldest, (18, 40)),
            role: AdultRole::Father,
            elsewhere: Some(address(rng)),
        }),
        _ => {}
    }
    if (adults.len() < 2 || adults[1].elsewhere.is_some()) && rng.random_bool(0.3) {
        let role = if rng.random_bool(0.5) { AdultRole::StepParent } else { AdultRole::PartnerOfParent };
        let other = pick(rng, &LISTS.family).to_string();
        adults.push(Adult { person: adult(rng, &other, false, eldest, (20, 40)), role, elsewhere: None });
    }
    // Some children are known by their mother's name too.
    if mother_surname != surname {
        for c in children.iter_mut() {
            if rng.random_bool(0.5) {
                c.alias = Some((c.given.clone(), mother_surname.clone()));
            }
        }
    }
    let previous = rng.random_bool(0.3).then(|| (address(rng), date_days_before(first_day, rng.random_range(30..900))));
    let avoidant = rng.random_bool(0.2);
    Family {
        team,
        children,
        adults,
        address: address(rng),
        previous,
        no_access: if avoidant { 0.25 } else { 0.05 },
        not_seen: if avoidant { 0.15 } else { 0.04 },
    }
}

/// A referrer's words for a source.
fn referrer(rng: &mut ChaCha8Rng, source: ReferralSource) -> Option<String> {
    let surname = pick(rng, &LISTS.family);
    Some(match source {
        ReferralSource::Police => format!("PC {} {surname}, Elmsford Police", rng.random_range(1000..9999)),
        ReferralSource::School => {
            format!(
                "{} {surname}, designated safeguarding lead, {}",
                pick(rng, &["Mrs", "Mr", "Ms"]),
                pick(rng, &LISTS.schools)
            )
        }
        ReferralSource::Health => {
            format!("{} {surname}, {}", pick(rng, &["Dr", "Nurse", "Health visitor"]), pick(rng, &LISTS.health))
        }
        ReferralSource::Relative => {
            pick(rng, &["Maternal grandmother", "Paternal grandmother", "Aunt", "Father (separated)", "Grandfather"])
                .into()
        }
        ReferralSource::Neighbour => format!("Neighbour ({} {surname})", pick(rng, &["Mrs", "Mr"])),
        ReferralSource::Anonymous => return None,
        ReferralSource::SelfReferral => "The young person".into(),
        ReferralSource::Other => pick(
            rng,
            &[
                "Elmsford Homes housing officer",
                "National Probation Service",
                "Early help hub",
                "Elmsford Women's Refuge",
                "Little Acorns Nursery",
            ],
        )
        .into(),
    })
}

fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A referral about some of a family's children at `at`.
fn referral(
    rng: &mut ChaCha8Rng,
    families: &[Family],
    family: usize,
    at: Timestamp,
    day: Date,
    partner_share: f64,
) -> Option<PlannedReferral> {
    let f = &families[family];
    let under_18: Vec<usize> = (0..f.children.len()).filter(|i| f.children[*i].age_on(day) < 18).collect();
    if under_18.is_empty() {
        return None;
    }
    let source = SOURCES[weighted(rng, &SOURCES.map(|s| s.1))].0;
    // Schools and health usually write about one child; police notifications name all.
    let children = match source {
        ReferralSource::School | ReferralSource::Health | ReferralSource::SelfReferral if under_18.len() > 1 => {
            vec![pick(rng, &under_18)]
        }
        _ => under_18,
    };
    let concern = pick_concern(rng, source);
    let child_names: Vec<&str> = children.iter().map(|i| f.children[*i].given.as_str()).collect();
    let school = pick(rng, &LISTS.schools);
    let health = pick(rng, &LISTS.health);
    let text = text::fill_about(
        concern.text,
        f.children[children[0]].female,
        &[
            ("children", &join_names(&child_names)),
            ("child", child_names[0]),
            ("parent", f.carer_name()),
            ("school", school),
            ("health", health),
        ],
    );
    let decision = [Decision::Nfa, Decision::EarlyHelp, Decision::Assessment, Decision::StrategyDiscussion]
        [weighted(rng, &concern.severity.decision_weights())];
    let via_partner = matches!(source, ReferralSource::Police | ReferralSource::School | ReferralSource::Health)
        && rng.random_bool(partner_share);
    Some(PlannedReferral {
        family,
        children,
        at,
        source,
        via_partner,
        referrer: referrer(rng, source),
        concern: text,
        categories: concern.categories.to_vec(),
        decision,
        hold_decision: false,
        hold_allocation: false,
    })
}

fn pick_concern(rng: &mut ChaCha8Rng, source: ReferralSource) -> &'static text::Concern {
    text::concerns(source).choose(rng).expect("every source has concerns")
}

/// A moment on `day` in London: mostly office hours, some evenings and nights (police).
fn moment(rng: &mut ChaCha8Rng, cal: &domain::working_time::Calendar, day: Date, office: bool) -> Timestamp {
    let minutes = if office { rng.random_range(9 * 60..17 * 60) } else { rng.random_range(0..24 * 60) };
    local(cal, day, minutes)
}

/// `minutes` past midnight on `day`, London time.
pub(crate) fn local(cal: &domain::working_time::Calendar, day: Date, minutes: i64) -> Timestamp {
    let midnight = day.to_datetime(jiff::civil::Time::midnight());
    let dt = midnight.checked_add(SignedDuration::from_mins(minutes)).unwrap_or(midnight);
    cal.time_zone().to_ambiguous_timestamp(dt).compatible().unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The latest working day before `day`.
fn previous_working_day(cal: &domain::working_time::Calendar, day: Date) -> Date {
    let mut d = date_days_before(day, 1);
    while !cal.is_working_day(d) {
        d = date_days_before(d, 1);
    }
    d
}

/// Plans `children` children in families, and three years of referrals about them ending at
/// `end`. A few families are new this week: their referrals are still waiting for a
/// decision, or decided and waiting for a worker, as at any real front door.
pub(crate) fn plan(
    rng: &mut ChaCha8Rng,
    cal: &domain::working_time::Calendar,
    children: usize,
    start: Timestamp,
    end: Timestamp,
) -> Plan {
    let first_day = cal.local_date(start);
    let last_day = cal.local_date(end);
    let span_days = (last_day - first_day).get_days().max(30) as i64;
    let latest = end.checked_sub(SignedDuration::from_mins(30)).unwrap_or(end);
    let mut families = Vec::new();
    let mut referrals = Vec::new();
    let mut count = 0;

    // This week's new families first, so they are never crowded out by the size limit.
    let fresh = (2 + children / 500).min(children / 10).max(1);
    // The last working day that had begun an hour before `end`.
    let mut today = cal.working_day_on_or_after(last_day);
    while local(cal, today, 10 * 60) > end {
        today = previous_working_day(cal, today);
    }
    for k in 0..2 * fresh {
        if count >= children {
            break;
        }
        let waiting_for_decision = k % 2 == 0;
        let mut day = today;
        if !waiting_for_decision {
            for _ in 0..rng.random_range(2..5) {
                day = previous_working_day(cal, day);
            }
        }
        // Spread both kinds over the teams.
        let team = (k / 2) % TEAMS;
        let mut fam = family(rng, team, day);
        fam.children.truncate(children - count);
        count += fam.children.len();
        let index = families.len();
        families.push(fam);
        let at = local(cal, day, rng.random_range(9 * 60..16 * 60)).min(latest);
        if let Some(mut r) = referral(rng, &families, index, at, day, 0.45) {
            r.children = (0..families[index].children.len()).collect();
            if waiting_for_decision {
                r.hold_decision = true;
            } else {
                r.hold_allocation = true;
                r.decision = Decision::Assessment;
            }
            referrals.push(r);
        }
    }

    while count < children {
        let day = date_days_before(last_day, rng.random_range(3..span_days));
        let team = weighted(rng, &TEAM_WEIGHTS);
        let mut fam = family(rng, team, day);
        // Keep to the number asked for.
        fam.children.truncate(children - count);
        count += fam.children.len();
        let index = families.len();
        families.push(fam);
        let office = rng.random_bool(0.75);
        let at = moment(rng, cal, day, office).min(latest);
        let Some(mut first) = referral(rng, &families, index, at, day, 0.45) else {
            continue;
        };
        // The first referral about a family names every child.
        first.children = (0..families[index].children.len()).collect();
        referrals.push(first);
        // Repeat referrals: most families are referred once, some again and again.
        let repeats = weighted(rng, &[55, 25, 12, 5, 3]);
        let mut day = day;
        for _ in 0..repeats {
            day = day.checked_add(rng.random_range(30..480).days()).unwrap_or(day);
            if day >= date_days_before(last_day, 2) {
                break;
            }
            let office = rng.random_bool(0.75);
            let at = moment(rng, cal, day, office);
            if let Some(r) = referral(rng, &families, index, at, day, 0.45) {
                referrals.push(r);
            }
        }
    }
    referrals.sort_by_key(|r| r.at);
    Plan { families, referrals }
}

/// How many teams there are.
const TEAMS: usize = TEAM_WEIGHTS.len();
