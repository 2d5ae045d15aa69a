//! From the synced documents to what the report shows: one pure function,
//! run by the device that prints the report and by the desk that checks it.

use outpost_sync::ids::{DocId, Timestamp, UserId};
use outpost_sync::model::{
    Actor, ChecklistTemplate, Client, Directory, DocKind, Document, Equipment, PartRequest, Points, Site, Ticket,
    TimeKind,
};
use outpost_sync::workflow::{fold_part_request, fold_ticket};

use crate::{CheckLine, EquipmentLine, Lang, PartLine, PhotoLine, ServiceReport, SignatureLine, VisitLine, WorkLine};

/// The documents a report is made from. Missing ones leave their lines
/// empty rather than fail: a report is printed from what the device has.
pub struct Sources<'a> {
    pub ticket: &'a Ticket,
    pub client: Option<&'a Client>,
    pub site: Option<&'a Site>,
    pub equipment: &'a [Equipment],
    pub template: Option<&'a ChecklistTemplate>,
    pub parts: &'a [PartRequest],
    /// Whose names to print: the service company's directory and the engineer's company's.
    pub directories: &'a [Directory],
    pub lang: Lang,
}

impl ServiceReport {
    pub fn build(sources: &Sources<'_>) -> Self {
        let t = sources.ticket;
        let name = |user: UserId| -> String {
            sources.directories.iter().find_map(|d| d.name_of(user)).unwrap_or_default().to_owned()
        };
        let zone_name = sources.site.map_or(t.site.time_zone.as_str(), |s| s.time_zone.as_str());
        let zone: chrono_tz::Tz = zone_name.parse().unwrap_or(chrono_tz::UTC);
        let time = |at: Timestamp| -> String {
            chrono::DateTime::from_timestamp_millis(at.0)
                .map(|utc| utc.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        };
        let engineer = fold_ticket(t)
            .assignee
            .and_then(|a| a.engineer)
            .or_else(|| t.signature.as_ref().map(|s| s.by.user))
            .or_else(|| t.visits.last().map(|v| v.by.user))
            .map(name)
            .unwrap_or_default();
        let minutes = |kind: TimeKind| -> i64 {
            t.time_entries
                .iter()
                .filter(|e| e.kind == kind)
                .filter_map(|e| e.end.map(|end| end.0.saturating_sub(e.start.0).max(0)))
                .sum::<i64>()
                / 60_000
        };
        let signature_hash = t.signature.as_ref().map(|s| s.attachment.0.as_str());
        Self {
            lang: sources.lang,
            company: sources.directories.iter().find(|d| d.everyone).map(|d| d.org_name.clone()).unwrap_or_default(),
            number: t.number.clone(),
            title: t.title.clone(),
            client: sources.client.map(|c| c.name.clone()).unwrap_or_default(),
            site: sources.site.map(|s| s.name.clone()).unwrap_or_default(),
            address: sources.site.map_or_else(|| t.site.address.clone(), |s| s.address.clone()),
            contact: [t.contact.name.as_str(), t.contact.phone.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            time_zone: zone.name().to_owned(),
            equipment: t
                .equipment
                .iter()
                .filter_map(|id| sources.equipment.iter().find(|e| e.id == *id))
                .map(|e| EquipmentLine { vendor: e.vendor.clone(), model: e.model.clone(), serial: e.serial.clone() })
                .collect(),
            description: t.description.as_str().to_owned(),
            work: t
                .work_log
                .iter()
                .map(|n| WorkLine { at: time(n.at), by: author(&name, &n.by), text: n.text.clone() })
                .collect(),
            resolution_code: t.resolution.code.clone(),
            resolution: t.resolution.notes.as_str().to_owned(),
            checklist: sources
                .template
                .map(|template| {
                    template
                        .items
                        .iter()
                        .map(|item| CheckLine {
                            label: item.label.clone(),
                            done: t.checklist.get(&item.key).is_some_and(|state| state.done),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            visits: t.visits.iter().map(|v| VisitLine { arrived: time(v.arrived), left: v.left.map(time) }).collect(),
            minutes_on_site: t
                .visits
                .iter()
                .filter_map(|v| v.left.map(|left| left.0.saturating_sub(v.arrived.0).max(0)))
                .sum::<i64>()
                / 60_000,
            minutes_travel: minutes(TimeKind::Travel),
            minutes_work: minutes(TimeKind::Work),
            parts: t
                .part_requests
                .iter()
                .filter_map(|id| sources.parts.iter().find(|p| p.id == *id))
                .map(|p| PartLine {
                    part_number: p.part_number.clone(),
                    description: p.description.clone(),
                    quantity: p.quantity,
                    status: fold_part_request(p).status.as_str().to_owned(),
                    installed_serial: p.installed_serial.clone(),
                    removed_serial: p.removed_serial.clone(),
                })
                .collect(),
            photos: t
                .attachments
                .iter()
                .filter(|a| a.mime.starts_with("image/") && Some(a.hash.0.as_str()) != signature_hash)
                .map(|a| PhotoLine {
                    name: a.name.clone(),
                    hash: a.hash.0.clone(),
                    thumbnail: a.thumbnail.as_ref().map(|h| h.0.clone()),
                })
                .collect(),
            points_charged: t.billing.points_charged.map(points),
            points_estimate: t.billing.points_estimate.map(points),
            engineer,
            signature: t.signature.as_ref().map(|s| SignatureLine {
                signer: s.signer_name.clone(),
                at: time(s.at),
                image: s.attachment.0.clone(),
            }),
        }
    }
}

fn author(name: &impl Fn(UserId) -> String, by: &Actor) -> String {
    name(by.user)
}

fn points(p: Points) -> String {
    format!("{}.{:02}", p.hundredths / 100, p.hundredths % 100)
}

/// Where a report's documents are read from: the device's store, or the desk's.
pub trait DocumentStore {
    type Error;
    /// The document `id` if it is stored as `kind`.
    fn read(
        &mut self,
        id: DocId,
        kind: DocKind,
    ) -> impl std::future::Future<Output = Result<Option<Document>, Self::Error>> + Send;
    /// The ids of every document of `kind` stored.
    fn ids(&mut self, kind: DocKind) -> impl std::future::Future<Output = Result<Vec<DocId>, Self::Error>> + Send;
}

impl ServiceReport {
    /// Reads what `ticket` names from `store` and builds its report: one
    /// way for the device that prints it and the desk that checks it.
    /// `lang`: the language to write in; `None` writes in the client's
    /// (`Client::language`), else Russian.
    pub async fn gather<S: DocumentStore + Send>(
        store: &mut S,
        ticket: &Ticket,
        lang: Option<Lang>,
    ) -> Result<Self, S::Error> {
        let client = match store.read(ticket.client, DocKind::Client).await? {
            Some(Document::Client(client)) => Some(client),
            _ => None,
        };
        let site = match ticket.site.site {
            Some(id) => match store.read(id, DocKind::Site).await? {
                Some(Document::Site(site)) => Some(site),
                _ => None,
            },
            None => None,
        };
        let template = match ticket.checklist_template {
            Some(id) => match store.read(id, DocKind::ChecklistTemplate).await? {
                Some(Document::ChecklistTemplate(template)) => Some(template),
                _ => None,
            },
            None => None,
        };
        let mut equipment = Vec::new();
        for id in &ticket.equipment {
            if let Some(Document::Equipment(e)) = store.read(*id, DocKind::Equipment).await? {
                equipment.push(e);
            }
        }
        let mut parts = Vec::new();
        for id in &ticket.part_requests {
            if let Some(Document::PartRequest(p)) = store.read(*id, DocKind::PartRequest).await? {
                parts.push(p);
            }
        }
        let mut directories = Vec::new();
        for id in store.ids(DocKind::Directory).await? {
            if let Some(Document::Directory(d)) = store.read(id, DocKind::Directory).await? {
                directories.push(d);
            }
        }
        Ok(Self::build(&Sources {
            ticket,
            client: client.as_ref(),
            site: site.as_ref(),
            equipment: &equipment,
            template: template.as_ref(),
            parts: &parts,
            directories: &directories,
            lang: lang
                .or_else(|| client.as_ref().and_then(|c| c.language.as_deref()).and_then(Lang::parse))
                .unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::future::Future;

    use outpost_sync::model::{BusinessHours, Role};
    use outpost_sync::sample::{worked_ticket, Cast, Rng};

    use super::*;

    struct InMemory(HashMap<DocId, Document>);

    impl DocumentStore for InMemory {
        type Error = Infallible;

        async fn read(&mut self, id: DocId, kind: DocKind) -> Result<Option<Document>, Infallible> {
            Ok(self.0.get(&id).filter(|d| d.kind() == kind).cloned())
        }

        async fn ids(&mut self, kind: DocKind) -> Result<Vec<DocId>, Infallible> {
            Ok(self.0.values().filter(|d| d.kind() == kind).map(Document::id).collect())
        }
    }

    /// Runs a future that never waits (the store above answers at once).
    fn now<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => unreachable!("the in-memory store never waits"),
        }
    }

    #[test]
    fn a_report_is_written_in_the_clients_language_unless_told_otherwise() {
        let cast = Cast::default();
        let ticket = worked_ticket(&mut Rng::new(3), &cast, 3, Timestamp(1_796_000_000_000));
        let client = |language: Option<&str>| Client {
            id: ticket.client,
            name: "Nordic Logistics LLC".into(),
            contract: None,
            business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
            points_balance: None,
            language: language.map(str::to_owned),
        };
        let directory = Directory {
            id: Directory::id_for(cast.service),
            org: cast.service,
            org_name: "Service Co".into(),
            everyone: true,
            people: [(
                cast.dispatcher.user.to_string(),
                outpost_sync::model::Person { name: "Olga".into(), role: Role::Dispatcher },
            )]
            .into(),
        };
        let store = |language: Option<&str>| {
            InMemory(HashMap::from([
                (ticket.client, Document::Client(client(language))),
                (directory.id, Document::Directory(directory.clone())),
            ]))
        };
        let gathered = |language: Option<&str>, lang: Option<Lang>| {
            now(ServiceReport::gather(&mut store(language), &ticket, lang)).unwrap()
        };
        assert_eq!(gathered(Some("en"), None).lang, Lang::En, "the client's language");
        assert_eq!(gathered(Some("en"), Some(Lang::Ru)).lang, Lang::Ru, "unless told otherwise");
        assert_eq!(gathered(None, None).lang, Lang::Ru, "Russian when the client has none");
        let report = gathered(Some("en"), None);
        assert_eq!((report.client.as_str(), report.company.as_str()), ("Nordic Logistics LLC", "Service Co"));
    }
}
