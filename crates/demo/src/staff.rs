//! The demo authority's staff: four teams, their managers, and partner users.
//!
//! The roster is fixed (the seed shapes families, not staff) so the logins people type are
//! the same every time. Each practitioner has a `target`: the caseload their manager lets
//! them reach before looking elsewhere. Targets differ as they do in real teams: an
//! experienced worker or senior practitioner is trusted with far more than the cap, a
//! newly qualified worker's load is protected, and part-timers hold less.

use domain::staff::Role;

/// The teams, in the order they are created.
pub(crate) const TEAMS: [&str; 4] =
    ["Northgate Assessment", "Riverside Child Protection", "Eastfield Children in Need", "Looked After Children"];

/// A member of the demo's staff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub login: &'static str,
    pub name: &'static str,
    pub role: Role,
    /// Index into [`TEAMS`].
    pub team: Option<usize>,
    pub fte: f64,
    /// The caseload the manager lets this worker reach at the default size.
    pub target: f64,
    /// Login of their deputy (created before them).
    pub deputy: Option<&'static str>,
    /// Joins this many days before today (a new starter), instead of at the beginning.
    pub joins_days_ago: Option<i64>,
    /// Away on extended leave from and to this many days before today.
    pub leave_days_ago: Option<(i64, i64)>,
    /// Qualified shortly before joining: in their first year, with a smaller cap and no
    /// child protection case without a manager's reason.
    pub newly_qualified: bool,
    /// For partners.
    pub agency: Option<&'static str>,
    /// A partner's organisation, as their referrals name it.
    pub organisation: &'static str,
}

const fn m(login: &'static str, name: &'static str, role: Role, team: Option<usize>) -> Member {
    Member {
        login,
        name,
        role,
        team,
        fte: 1.0,
        target: 0.0,
        deputy: None,
        joins_days_ago: None,
        leave_days_ago: None,
        newly_qualified: false,
        agency: None,
        organisation: "",
    }
}

const fn worker(login: &'static str, name: &'static str, role: Role, team: usize, fte: f64, target: f64) -> Member {
    Member { fte, target, ..m(login, name, role, Some(team)) }
}

const fn deputised(member: Member, deputy: &'static str) -> Member {
    Member { deputy: Some(deputy), ..member }
}

const fn partner(login: &'static str, name: &'static str, agency: &'static str, organisation: &'static str) -> Member {
    Member { agency: Some(agency), organisation, ..m(login, name, Role::Partner, None) }
}

use Role::{Director, HeadOfService, SeniorPractitioner as Sp, ServiceManager, SocialWorker as Sw, TeamManager};

/// Everyone, in creation order (deputies before the people they deputise for).
pub(crate) const ROSTER: &[Member] = &[
    // The line above the teams.
    m("sm.rachel", "Rachel Hughes", ServiceManager, None),
    deputised(m("sm.imran", "Imran Qureshi", ServiceManager, None), "sm.rachel"),
    deputised(m("hos.mark", "Mark Adeyemi", HeadOfService, None), "sm.rachel"),
    deputised(m("dir.susan", "Susan Whitfield", Director, None), "hos.mark"),
    // Northgate Assessment.
    worker("sp.daniel", "Daniel Okoro", Sp, 0, 1.0, 20.0),
    deputised(m("tm.helen", "Helen Marsh", TeamManager, Some(0)), "sp.daniel"),
    worker("sw.chloe", "Chloe Bennett", Sw, 0, 1.0, 16.0),
    worker("sw.tomasz", "Tomasz Nowak", Sw, 0, 1.0, 23.0),
    worker("sw.fatima", "Fatima Rahman", Sw, 0, 0.8, 11.0),
    Member { joins_days_ago: Some(270), ..worker("sw.lucy", "Lucy Carter", Sw, 0, 1.0, 9.0) },
    // Riverside Child Protection.
    worker("sp.owen", "Owen Price", Sp, 1, 1.0, 24.0),
    worker("sp.nadia", "Nadia Hussain", Sp, 1, 1.0, 17.0),
    deputised(m("tm.grace", "Grace Mensah", TeamManager, Some(1)), "sp.owen"),
    worker("sw.amara", "Amara Obi", Sw, 1, 1.0, 28.0),
    worker("sw.james", "James Whitaker", Sw, 1, 1.0, 15.0),
    worker("sw.kerry", "Kerry Doyle", Sw, 1, 0.6, 8.0),
    // Eastfield Children in Need.
    worker("sp.sarah", "Sarah Collins", Sp, 2, 1.0, 18.0),
    deputised(m("tm.paul", "Paul Jennings", TeamManager, Some(2)), "sp.sarah"),
    worker("sw.ben", "Ben Aldridge", Sw, 2, 1.0, 14.0),
    Member { leave_days_ago: Some((760, 480)), ..worker("sw.priya", "Priya Sharma", Sw, 2, 1.0, 17.0) },
    worker("sw.ellie", "Ellie Ward", Sw, 2, 0.6, 9.0),
    Member { joins_days_ago: Some(150), newly_qualified: true, ..worker("sw.marcus", "Marcus Green", Sw, 2, 1.0, 8.0) },
    // Looked After Children.
    worker("sp.ravi", "Ravi Patel", Sp, 3, 1.0, 16.0),
    deputised(m("tm.joanne", "Joanne Fletcher", TeamManager, Some(3)), "sp.ravi"),
    worker("sw.hannah", "Hannah Cole", Sw, 3, 1.0, 22.0),
    Member { leave_days_ago: Some((400, 310)), ..worker("sw.kwame", "Kwame Boateng", Sw, 3, 1.0, 14.0) },
    worker("sw.zofia", "Zofia Kowalska", Sw, 3, 0.8, 12.0),
    // Partner agencies.
    partner("police.khan", "Aisha Khan", "police", "Elmsford Police Public Protection Unit"),
    partner("school.morgan", "Bethan Morgan", "school", "Elmsford Academy"),
    partner("health.osei", "Kofi Osei", "health", "Elmsford Health Visiting Team"),
    // The council's internal audit: reads the trail, never a child's record.
    m("audit.evans", "Catrin Evans", Role::Auditor, None),
];

/// The administrator, created first (by the seeder itself) so everyone else is added by them.
pub(crate) const ADMIN: Member = m("admin", "Gareth Lloyd", Role::Administrator, None);

/// Which service manager oversees each team.
pub(crate) const SERVICE_MANAGER_OF: [&str; 4] = ["sm.rachel", "sm.rachel", "sm.imran", "sm.imran"];

/// The head of service over every team.
pub(crate) const HEAD_OF_SERVICE: &str = "hos.mark";

/// The password every demo account shares.
pub const DEMO_PASSWORD: &str = "safeguard-demo";
