//! People: who is on duty or asked, families recorded at the front door, children recorded twice.

use super::Sim;
use crate::staff::{ADMIN, ROSTER};
use crate::world::{AdultRole, Person, pick};
use anyhow::Context;
use commands::people::{AliasInput, RelationshipInput};
use domain::authz::Actor;
use domain::ids::PersonId;
use domain::person::{AddressInput, PersonInput};
use domain::referral::ReferralSource;
use domain::staff::Agency;

/// A surname as someone typing it in a hurry might: two letters swapped.
fn misspell(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.len() >= 4 {
        chars.swap(2, 3);
    }
    chars.into_iter().collect()
}

/// The command input that records `p`, as a `kind` (`child` or `adult`).
pub(super) fn person_input(p: &Person, kind: &str) -> PersonInput {
    PersonInput {
        kind: Some(kind.into()),
        given_name: p.given.clone(),
        family_name: p.family.clone(),
        dob: Some(p.dob.to_string()),
        dob_precision: Some(if p.dob_estimated { "estimated" } else { "known" }.into()),
        sex: Some(if p.female { "female" } else { "male" }.into()),
        nhs_number: p.nhs.clone(),
        upn: p.upn.clone(),
    }
}

impl Sim {
    /// A practitioner on duty in the team's front door today.
    pub(super) fn duty_worker(&mut self, team: usize) -> anyhow::Result<Actor> {
        let on_duty: Vec<usize> =
            (0..self.workers.len()).filter(|w| self.workers[*w].team == team && self.workers[*w].available).collect();
        let w = pick(&mut self.rng, &on_duty);
        self.workers[w].actor.clone().context("an available worker has an account")
    }

    pub(super) fn partner(&self, source: ReferralSource) -> anyhow::Result<Actor> {
        let agency = match source {
            ReferralSource::Police => Agency::Police,
            ReferralSource::School => Agency::School,
            _ => Agency::Health,
        };
        self.partners
            .iter()
            .find(|(a, _)| *a == agency)
            .map(|(_, actor)| actor.clone())
            .context("a partner user for the agency")
    }

    pub(super) fn manager_of(&self, team: usize) -> Actor {
        self.teams[team].manager.clone()
    }

    pub(super) fn names_of(&self, actor: &Actor) -> String {
        ROSTER
            .iter()
            .chain(std::iter::once(&ADMIN))
            .find(|m| m.login == actor.login)
            .map(|m| m.name.to_string())
            .unwrap_or_else(|| actor.login.clone())
    }

    /// The duty worker records the household: the adults, where everyone lives, and how
    /// they are related.
    pub(super) async fn register_family(&mut self, f: usize, by: &Actor) -> anyhow::Result<()> {
        let family = self.plan.families[f].clone();
        let children: Vec<PersonId> = self.families[f]
            .children
            .iter()
            .map(|c| c.context("children are registered by their referral"))
            .collect::<anyhow::Result<_>>()?;
        let mut adults = Vec::new();
        for a in &family.adults {
            self.pause(2, 6);
            let id = self.svc.register_person(by, &person_input(&a.person, "adult")).await;
            adults.push(self.done(id, "register adult")?);
        }
        let mut household: Vec<PersonId> = children.clone();
        household.extend(family.adults.iter().zip(&adults).filter(|(a, _)| a.elsewhere.is_none()).map(|(_, id)| *id));
        for person in household {
            let moved = family.previous.as_ref().map(|(_, d)| d.to_string());
            if let Some((old, _)) = &family.previous {
                self.pause(1, 3);
                let input = AddressInput {
                    line: old.line.clone(),
                    town: Some("Elmsford".into()),
                    postcode: Some(old.postcode.clone()),
                    from: None,
                    to: moved.clone(),
                };
                let r = self.svc.add_address(by, person, &input).await;
                self.done(r, "previous address")?;
            }
            self.pause(1, 3);
            let input = AddressInput {
                line: family.address.line.clone(),
                town: Some("Elmsford".into()),
                postcode: Some(family.address.postcode.clone()),
                from: moved,
                to: None,
            };
            let r = self.svc.add_address(by, person, &input).await;
            self.done(r, "address")?;
        }
        for (a, id) in family.adults.iter().zip(&adults) {
            if let Some(elsewhere) = &a.elsewhere {
                self.pause(1, 3);
                let input = AddressInput {
                    line: elsewhere.line.clone(),
                    town: Some("Elmsford".into()),
                    postcode: Some(elsewhere.postcode.clone()),
                    from: None,
                    to: None,
                };
                let r = self.svc.add_address(by, *id, &input).await;
                self.done(r, "address elsewhere")?;
            }
            let kind = match a.role {
                AdultRole::Mother | AdultRole::Father => "parent",
                AdultRole::StepParent => "step_parent",
                AdultRole::PartnerOfParent => "partner_of_parent",
            };
            for child in &children {
                self.pause(1, 2);
                let r = self
                    .svc
                    .add_relationship(by, *id, &RelationshipInput { related: Some(child.0), kind: kind.into() })
                    .await;
                self.done(r, "relationship")?;
            }
        }
        for i in 0..children.len() {
            for j in i + 1..children.len() {
                self.pause(1, 2);
                let r = self
                    .svc
                    .add_relationship(
                        by,
                        children[i],
                        &RelationshipInput { related: Some(children[j].0), kind: "sibling".into() },
                    )
                    .await;
                self.done(r, "sibling")?;
            }
            if let Some((given, family_name)) = &family.children[i].alias {
                self.pause(1, 2);
                let r = self
                    .svc
                    .add_alias(
                        by,
                        children[i],
                        &AliasInput { given_name: given.clone(), family_name: family_name.clone() },
                    )
                    .await;
                self.done(r, "alias")?;
            }
        }
        self.families[f].registered = true;
        Ok(())
    }

    /// As in every real service, some children end up recorded twice: a health visitor's
    /// or a school's record typed in again with the surname misspelt, the day and month
    /// of birth swapped or the sex left out, without finding the record already there.
    /// The engine then finds them for the review queue ("People recorded twice").
    pub(super) async fn record_some_children_twice(&mut self) -> anyhow::Result<()> {
        use rand::seq::SliceRandom;
        let mut recorded: Vec<(usize, usize)> = self
            .families
            .iter()
            .enumerate()
            .flat_map(|(f, st)| st.children.iter().enumerate().filter(|(_, c)| c.is_some()).map(move |(i, _)| (f, i)))
            .collect();
        recorded.shuffle(&mut self.rng);
        let n = (recorded.len() / 60).clamp(3, 40).min(recorded.len());
        let Some(by) = self.workers.iter().find_map(|w| w.actor.clone()) else { return Ok(()) };
        for (k, (f, i)) in recorded.into_iter().take(n).enumerate() {
            let family = &self.plan.families[f];
            let child = &family.children[i];
            let mut input = person_input(child, "child");
            // The second record is thinner: no NHS number or pupil number.
            input.nhs_number = None;
            input.upn = None;
            match k % 3 {
                0 => input.family_name = misspell(&child.family),
                1 if child.dob.day() <= 12 && child.dob.day() != child.dob.month() => {
                    input.dob = jiff::civil::Date::new(child.dob.year(), child.dob.day(), child.dob.month())
                        .ok()
                        .map(|d| d.to_string())
                        .or(input.dob);
                }
                _ => input.sex = Some("unknown".into()),
            }
            let address = AddressInput {
                line: family.address.line.clone(),
                town: Some("Elmsford".into()),
                postcode: Some(family.address.postcode.clone()),
                from: None,
                to: None,
            };
            self.pause(20, 90);
            let r = self.svc.register_person(&by, &input).await;
            let person = self.done(r, "a child recorded twice")?;
            let r = self.svc.add_address(&by, person, &address).await;
            self.done(r, "their address")?;
        }
        let r = self.svc.find_duplicates(commands::Caller::System("demo"), None).await;
        let found = self.done(r, "looking for people recorded twice")?;
        if found.added == 0 {
            // Nothing was written, so nothing went on the trail.
            self.commands -= 1;
        }
        Ok(())
    }
}
