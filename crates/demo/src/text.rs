//! The words of the demo: name lists (from `crates/demo/data/`) and the templates that
//! concerns, decisions, visit notes and case notes are written from.
//!
//! Templates use `{child}`, `{children}`, `{parent}`, `{school}`, `{health}`, `{worker}`
//! and `{manager}` placeholders, filled by [`fill`].

use domain::referral::{Decision, ReferralSource};
use std::sync::LazyLock;

fn lines(raw: &'static str) -> Vec<&'static str> {
    raw.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

/// The name and place lists.
pub(crate) struct Lists {
    pub female: Vec<&'static str>,
    pub male: Vec<&'static str>,
    pub family: Vec<&'static str>,
    pub streets: Vec<&'static str>,
    pub schools: Vec<&'static str>,
    pub health: Vec<&'static str>,
}

/// The lists, read once from the files compiled into the binary.
pub(crate) static LISTS: LazyLock<Lists> = LazyLock::new(|| Lists {
    female: lines(include_str!("../data/given_names_female.txt")),
    male: lines(include_str!("../data/given_names_male.txt")),
    family: lines(include_str!("../data/family_names.txt")),
    streets: lines(include_str!("../data/streets.txt")),
    schools: lines(include_str!("../data/schools.txt")),
    health: lines(include_str!("../data/health.txt")),
});

/// Replaces each `{key}` in `template` with its value.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Fills a template about one child, with their pronouns.
pub(crate) fn fill_about(template: &str, female: bool, values: &[(&str, &str)]) -> String {
    let mut all = values.to_vec();
    all.extend(pronouns(female));
    fill(template, &all)
}

/// The pronouns templates use for a child: `{she}`, `{She}`, `{his}` (possessive) and `{him}`.
pub(crate) fn pronouns(female: bool) -> [(&'static str, &'static str); 4] {
    if female {
        [("she", "she"), ("She", "She"), ("his", "her"), ("him", "her")]
    } else {
        [("she", "he"), ("She", "He"), ("his", "his"), ("him", "him")]
    }
}

/// How serious a concern reads at the front door; shapes the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// Below the threshold for social care, usually.
    Low,
    /// Needs assessing.
    Medium,
    /// Reasonable cause to suspect significant harm.
    High,
}

impl Severity {
    /// Weights for no further action, early help, assessment, strategy discussion.
    pub fn decision_weights(self) -> [u32; 4] {
        match self {
            Severity::Low => [58, 34, 8, 0],
            Severity::Medium => [24, 30, 40, 6],
            Severity::High => [3, 4, 48, 45],
        }
    }
}

/// A concern a referrer might raise.
pub(crate) struct Concern {
    pub text: &'static str,
    pub categories: &'static [&'static str],
    pub severity: Severity,
}

const fn c(text: &'static str, categories: &'static [&'static str], severity: Severity) -> Concern {
    Concern { text, categories, severity }
}

use Severity::{High, Low, Medium};

const POLICE: &[Concern] = &[
    c(
        "Police attended a domestic incident at the family home at 23:40. {parent} had a visible injury to her face; {children} were present and awake. Partner arrested for assault and released on bail with conditions not to attend the address.",
        &["emotional", "physical"],
        High,
    ),
    c(
        "Domestic abuse notification (DASH risk: medium). Verbal argument between {parent} and partner overheard by neighbours; no injuries seen. {children} asleep upstairs. Third call-out to this address this year.",
        &["emotional"],
        Medium,
    ),
    c(
        "Officers carrying out a welfare check found {children} alone at home at 21:00 with no adult present. {parent} returned at 22:15 and said she had gone to the shop.",
        &["neglect"],
        Medium,
    ),
    c(
        "{child} was reported missing overnight and found at 03:00 in a car with two adult men. Concerns about child criminal or sexual exploitation.",
        &["sexual"],
        High,
    ),
    c(
        "Warrant executed at the address: cannabis cultivation found in the loft; {children} live at the property. {parent}'s partner arrested.",
        &["neglect"],
        High,
    ),
    c(
        "{child} disclosed to officers at the scene of a disturbance that 'mum's boyfriend hits me with a belt'. Marks seen on the back of the legs.",
        &["physical"],
        High,
    ),
    c(
        "Police called to the address after {parent} was found heavily intoxicated in the street with {child} in a pushchair at 19:30.",
        &["neglect"],
        Medium,
    ),
    c(
        "Anti-social behaviour: {child} stopped with a group of older youths and found carrying a knife. Says {she} needs it for protection.",
        &["emotional"],
        Medium,
    ),
];

const SCHOOL: &[Concern] = &[
    c(
        "{child} arrived at school with bruising to the left cheek. When asked, said 'dad did it' and then would not say more. Designated safeguarding lead has photographed the mark.",
        &["physical"],
        High,
    ),
    c(
        "{child}'s attendance has fallen to 71% this term. Often arrives hungry, in the same uniform all week, and staff have noticed head lice that are not treated.",
        &["neglect"],
        Medium,
    ),
    c(
        "{child} told {his} class teacher {she} does not want to go home because 'mum's friend comes into my room at night'.",
        &["sexual"],
        High,
    ),
    c(
        "{child} has become withdrawn and tearful; said that {his} parents argue every night and that {she} hides under the bed. No marks seen.",
        &["emotional"],
        Medium,
    ),
    c(
        "{child} has not been collected on time on six occasions this half term; twice nobody came and staff could not reach {parent} until 18:00.",
        &["neglect"],
        Low,
    ),
    c(
        "{child} has been self-harming (cuts to forearms) and has told the school counsellor that nobody at home would notice if {she} was gone.",
        &["emotional"],
        Medium,
    ),
    c(
        "{child} brought a kitchen knife into school and said {she} was scared of {his} older brother's friends who wait for {him} after school.",
        &["emotional"],
        Medium,
    ),
    c(
        "{child} has missed the last four weeks of school. Home visits by the attendance officer went unanswered; neighbours say the family is still living there.",
        &["neglect"],
        Medium,
    ),
];

const HEALTH: &[Concern] = &[
    c(
        "Health visitor concerned about {child}'s weight: dropped from the 50th to below the 2nd centile. Three missed appointments; home conditions very poor (dog faeces on the floor, no food in the fridge).",
        &["neglect"],
        Medium,
    ),
    c(
        "{child} (infant) brought to the emergency department with a spiral fracture of the femur. Explanation (fell off the sofa) inconsistent with the injury and developmental stage.",
        &["physical"],
        High,
    ),
    c(
        "Midwife referral: {parent} is 30 weeks pregnant, using heroin and crack cocaine, and has not engaged with the substance misuse service. Previous child removed in another authority.",
        &["neglect"],
        High,
    ),
    c(
        "GP reports {parent} has severe depression with suicidal thoughts and is the sole carer of {children}; she has stopped taking her medication.",
        &["neglect", "emotional"],
        Medium,
    ),
    c(
        "{child} seen at the emergency department for the third time in two months (burns, a head injury, a swallowed battery). Each explanation plausible on its own.",
        &["physical", "neglect"],
        Medium,
    ),
    c(
        "CAMHS: {child} disclosed that {his} stepfather has been sending {him} sexual messages on social media.",
        &["sexual"],
        High,
    ),
    c(
        "School nurse: {child} has significant untreated tooth decay and has been in pain for weeks; family have not taken up dental appointments.",
        &["neglect"],
        Low,
    ),
];

const RELATIVE: &[Concern] = &[
    c(
        "Maternal grandmother reports that {children} are often left with different adults overnight and that {parent} is drinking heavily again.",
        &["neglect"],
        Medium,
    ),
    c(
        "Aunt says {child} told her that mum's boyfriend shouts at {him} and locks {him} in {his} bedroom as a punishment.",
        &["emotional"],
        Medium,
    ),
    c(
        "Father (separated) says the children come to contact dirty and hungry and that {parent}'s new partner has a conviction for violence.",
        &["neglect", "physical"],
        Medium,
    ),
    c(
        "Grandfather worried that {parent} cannot cope since the birth of the baby and that the house is in a very poor state.",
        &["neglect"],
        Low,
    ),
];

const NEIGHBOUR: &[Concern] = &[
    c(
        "Neighbour reports hearing a child screaming and a man shouting 'shut up or I'll make you' late at night, several times a week.",
        &["physical", "emotional"],
        Medium,
    ),
    c(
        "Neighbour says {children} are often playing in the street until late at night and come to her door asking for food.",
        &["neglect"],
        Low,
    ),
    c(
        "Neighbour saw {parent} drag {child} by the arm into the house and hit him across the head.",
        &["physical"],
        Medium,
    ),
];

const ANONYMOUS: &[Concern] = &[
    c(
        "Anonymous caller says the children at the address are left alone while their mother goes out, and there is constant shouting.",
        &["neglect", "emotional"],
        Low,
    ),
    c(
        "Anonymous caller reports drug dealing from the flat, with young children living there and people coming and going through the night.",
        &["neglect"],
        Medium,
    ),
    c(
        "Anonymous online report: a teenager at the address is 'going out with' a man in his thirties who picks them up from school.",
        &["sexual"],
        Medium,
    ),
];

const SELF: &[Concern] = &[
    c(
        "{child} phoned the front door from a friend's house: says {she} does not feel safe at home since {his} stepfather moved in and will not go back tonight.",
        &["emotional", "physical"],
        High,
    ),
    c(
        "{child} walked into the council offices asking for somewhere to live; says {she} was told to leave home after an argument and slept in a stairwell last night.",
        &["neglect"],
        Medium,
    ),
];

const OTHER: &[Concern] = &[
    c(
        "Housing officer found the flat in a very poor state during a repairs visit: no working heating, mould, and the children sleeping on a mattress on the floor.",
        &["neglect"],
        Low,
    ),
    c(
        "Probation: a man recently released after a conviction for offences against children has moved in with {parent} and {children}.",
        &["sexual"],
        High,
    ),
    c(
        "Early help worker escalating: the family has not engaged with the family support plan for three months and concerns about neglect have increased.",
        &["neglect"],
        Medium,
    ),
    c(
        "Women's refuge: {parent} and {children} arrived last night after fleeing domestic abuse; the children witnessed serious violence.",
        &["emotional"],
        Medium,
    ),
    c(
        "Nursery manager: {child} has been collected twice by an adult who smelt strongly of alcohol; {child} often arrives in dirty nappies.",
        &["neglect"],
        Low,
    ),
];

/// The concerns a source might raise.
pub(crate) fn concerns(source: ReferralSource) -> &'static [Concern] {
    match source {
        ReferralSource::Police => POLICE,
        ReferralSource::School => SCHOOL,
        ReferralSource::Health => HEALTH,
        ReferralSource::Relative => RELATIVE,
        ReferralSource::Neighbour => NEIGHBOUR,
        ReferralSource::Anonymous => ANONYMOUS,
        ReferralSource::SelfReferral => SELF,
        ReferralSource::Other => OTHER,
    }
}

/// Reasons a manager gives for a decision on a concern whose main category is `category`.
pub(crate) fn decision_reasons(decision: Decision, category: &str) -> &'static [&'static str] {
    match (decision, category) {
        (Decision::Nfa, _) => &[
            "Checks with school, health and police show no further concerns; parent has acted protectively. No further action; advice given to the referrer.",
            "Information does not meet the threshold for social care. Family already supported by universal services; referrer informed.",
            "Single incident, explanation consistent and corroborated by the school. No further action.",
        ],
        (Decision::EarlyHelp, _) => &[
            "Needs are below the statutory threshold but the family would benefit from support: referred to the early help hub with the parent's consent.",
            "Parent asking for help with routines and school attendance. Early help family support worker to offer a plan.",
            "Parent engaged on the phone and accepts support. Step to early help with a review in three months.",
        ],
        (Decision::Assessment, "neglect") => &[
            "Cumulative concerns about neglect with previous referrals on file; a child and family assessment is needed.",
            "Parent has not engaged with early help and the children's basic needs are not being met. Assessment under section 17.",
            "Repeat referral within twelve months: assess the whole family's circumstances rather than the single incident.",
        ],
        (Decision::Assessment, "physical") => &[
            "Concern about physical chastisement; no injury requiring medical attention. Assess parenting capacity and the child's safety within 45 working days.",
            "Repeat referral within twelve months: assess the whole family's circumstances rather than the single incident.",
        ],
        (Decision::Assessment, "sexual") => &[
            "No disclosure, but risk factors present. Child and family assessment with police informed; review the threshold if anything further is said.",
        ],
        (Decision::Assessment, _) => &[
            "Concerns about the impact of conflict and domestic abuse at home on the children. Child and family assessment to be completed within 45 working days.",
            "The child's emotional wellbeing is deteriorating and the parent is struggling. Assessment under section 17.",
            "Repeat referral within twelve months: assess the whole family's circumstances rather than the single incident.",
        ],
        (Decision::StrategyDiscussion, "physical") => &[
            "Reasonable cause to suspect significant harm: injury with an inconsistent explanation. Strategy discussion with police and health today.",
        ],
        (Decision::StrategyDiscussion, "sexual") => &[
            "Disclosure or strong indicators of sexual harm. Strategy discussion with police today; child not to be spoken to by parents before the joint visit.",
            "Risk of sexual exploitation: strategy discussion with police and the exploitation team.",
        ],
        (Decision::StrategyDiscussion, "neglect") => &[
            "Neglect at a level that suggests significant harm, with previous involvement. Strategy discussion to consider section 47 enquiries.",
        ],
        (Decision::StrategyDiscussion, _) => &[
            "Serious domestic abuse with children present and a history of violence. Strategy discussion to consider section 47 enquiries.",
            "Child says they are not safe at home. Strategy discussion with police today.",
        ],
    }
}

/// The reason a manager gives when a referral joins a case already open.
pub(crate) const LINKED_REASON: &str = "The family already has an open case. New information shared with the allocated worker and to be addressed in the current plan.";

/// Notes a team manager writes after a strategy discussion.
pub(crate) const STRATEGY_NOTES: &[&str] = &[
    "Strategy discussion held with DC {officer} (police) and the {health} safeguarding nurse. Agreed threshold for section 47 enquiries is met; joint visit to see {child} today. Police to check for previous call-outs.",
    "Strategy discussion with police and {school}: agreed single-agency section 47 enquiry by children's social care. {worker_or_duty} to see {child} alone at school tomorrow morning.",
    "Strategy meeting held. Medical examination arranged for {child} this afternoon. Safety plan agreed: {parent}'s partner not to have unsupervised contact.",
];

/// Why a manager reallocates a case.
pub(crate) const REALLOCATE_LEAVE: &str = "allocated worker on extended leave; case reallocated within the team";
/// Why a manager goes over a worker's cap.
pub(crate) const OVER_CAP_REASONS: &[&str] = &[
    "No worker in the team has capacity; allocated to the lightest caseload rather than leave the child unallocated. Service manager informed.",
    "Sibling of a child the worker already holds; keeping the family with one worker.",
    "Urgent strategy case; agreed in supervision to hold over the cap until the new starter takes cases.",
    "Team carrying two vacancies; agency cover requested. Allocated over the cap with the service manager's agreement.",
];

/// Visit notes, by outcome.
pub(crate) const SEEN_ALONE_NOTES: &[&str] = &[
    "Saw {child} alone in {his} bedroom. {She} talked about school and {his} friends and said things have been calmer at home this week. Room clean, bed made.",
    "Saw {child} alone at school. {She} said {she} likes {his} teacher and that mum has been 'nicer'. Asked about the incident; {she} said it has not happened again.",
    "Spent time with {child} alone in the garden. Used the three houses tool: worries were about money and mum being sad; good things were {his} dog and football.",
    "Saw {child} alone. {She} was quiet at first but drew a picture of {his} family; {she} left {his} stepfather out of it and would not say why. To explore at the next visit.",
    "Unannounced visit. Saw {child} alone in the living room. Food in the cupboards, house warm. {child} said {she} had breakfast this morning.",
];
pub(crate) const SEEN_NOTES: &[&str] = &[
    "Saw {child} with {parent} present. {child} appeared well cared for; sleeping arrangements checked as agreed in the plan. Health visitor due next week.",
    "Saw {child} at home with {parent}. {She} would not speak to me on {his} own today; to try again at school.",
    "Visit with {parent} and {child}. Discussed the safety plan; {parent} confirmed her ex-partner has not been to the house.",
    "Saw {child}, who was playing with {his} brother. {parent} was defensive about the referral and said the school is 'picking on' the family.",
];
pub(crate) const NOT_SEEN_NOTES: &[&str] = &[
    "{parent} let me in but said {child} was staying at {his} grandmother's. Could not confirm; will see {child} at school tomorrow.",
    "{parent} answered but said {child} was asleep and refused to wake her. Explained that the child must be seen; rearranged for tomorrow after school.",
    "Got into the house; {child} was out with friends and {parent} did not know where. Advised to report {him} missing if not home by 22:00.",
];
pub(crate) const NO_ACCESS_NOTES: &[&str] = &[
    "No answer at the arranged time. Curtains drawn; a television could be heard. Left a card and will return unannounced within five working days.",
    "No access: {parent} texted ten minutes before the visit to cancel because of a hospital appointment. Third cancellation this month; discussed with the team manager.",
    "No answer. Neighbour said the family have been staying with relatives. Checked with {school}: {child} has not been in school this week. Manager informed.",
];

/// Case notes between visits.
pub(crate) const CASE_NOTES: &[&str] = &[
    "Phone call with the designated safeguarding lead at {school}: {child}'s attendance this half term is 84%, up from 71%. No new marks seen.",
    "Supervision with {manager}: discussed progress against the plan. Agreed to continue weekly contact and to request the GP's report.",
    "Core group meeting held with {parent}, {school} and {health}. Actions reviewed; housing application still outstanding.",
    "{health} reports that {parent} attended the last two appointments and the baby's weight is back on the 25th centile.",
    "Phone call from {parent}, upset that the school contacted social care again. Explained the reason and agreed a visit next week.",
    "Police checks returned: no further call-outs to the address since the last review.",
    "Chronology updated. Pattern of missed health appointments and late school collections over 18 months; to be shared at the next core group.",
    "Joint visit planned with the domestic abuse worker. {parent} has agreed to attend the Freedom Programme.",
    "Legal gateway advice requested: concerns continue despite the plan; manager to consider a pre-proceedings meeting.",
];

/// A note written when a referral joins an open case.
pub(crate) const LINKED_NOTE: &str = "New {source} referral received and linked to this case: {summary} Discussed with {manager}; to be addressed in the current plan.";

/// A note a worker writes when a case closes.
pub(crate) const CLOSING_NOTES: &[&str] = &[
    "Closing summary: the plan's outcomes are met. {parent} is engaging with the health visitor and {school}; {child} is settled. Family know how to contact the front door.",
    "Closing summary: assessment complete. Needs can be met by universal services; consent given to share the assessment with {school}.",
];

/// Why a case closes, by the kind of work.
pub(crate) fn closure_reasons(kind: &str) -> &'static [&'static str] {
    match kind {
        "assessment" => &[
            "Assessment completed: no further role for children's social care; universal services in place.",
            "Assessment completed: stepped down to early help with a family support worker.",
            "Assessment completed: needs can be met by the school and the health visitor.",
        ],
        "lac" => &[
            "Returned home to mother; the supervision order ended and the child is settled.",
            "Special guardianship order made to the maternal grandmother.",
            "Adoption order granted.",
            "Young person turned 18: transferred to the leaving care service.",
        ],
        _ => &[
            "Plan's outcomes achieved; closing with the family's agreement.",
            "Child protection plan ended at the review conference; stepped down to early help.",
            "Family moved to another local authority; case transferred to their front door.",
            "Parent engaging well and concerns reduced; stepped down to early help.",
        ],
    }
}

/// Why a case closes early when the team is over capacity.
pub(crate) const STEP_DOWN_REASON: &str =
    "Reviewed at the weekly caseload meeting: risk reduced and the family is engaging; stepped down to early help.";
