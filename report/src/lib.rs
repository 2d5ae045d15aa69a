//! The signed service report (акт выполненных работ).
//!
//! [`ServiceReport`] is exactly what the report shows, made by one pure
//! function from the synced documents ([`ServiceReport::build`]), so the
//! device that prints it and the desk that checks it later read the same
//! thing. Its canonical JSON is stored beside the PDF, and the SHA-256 of
//! that JSON (printed in the PDF's footer) is the report's data hash: the
//! desk builds the report again from the ticket as it stands and says what
//! changed since the customer signed ([`ServiceReport::changes_since`]).
//! [`render`] typesets it (typst, with the DejaVu Sans shipped in
//! `assets/fonts`) into an A4 PDF.

mod build;
mod render;

pub use build::{DocumentStore, Sources};
pub use render::{render, RenderError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The media type of a report's data as stored beside its PDF.
pub const DATA_MIME: &str = "application/vnd.outpost.report+json";
pub const PDF_MIME: &str = "application/pdf";

/// The language a report is written in.
#[derive(ts_rs::TS, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ru" => Some(Self::Ru),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

/// Everything a report shows, as it shows it: times already in the site's
/// time zone, names already resolved. Changing anything here changes the
/// data hash.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct ServiceReport {
    pub lang: Lang,
    /// The service company.
    pub company: String,
    pub number: String,
    pub title: String,
    pub client: String,
    pub site: String,
    pub address: String,
    pub contact: String,
    /// The site's time zone, in which every time here is written.
    pub time_zone: String,
    pub equipment: Vec<EquipmentLine>,
    pub description: String,
    pub work: Vec<WorkLine>,
    pub resolution_code: Option<String>,
    pub resolution: String,
    pub checklist: Vec<CheckLine>,
    pub visits: Vec<VisitLine>,
    /// Minutes on site (visits), travelling and working (timers).
    #[ts(type = "number")]
    pub minutes_on_site: i64,
    #[ts(type = "number")]
    pub minutes_travel: i64,
    #[ts(type = "number")]
    pub minutes_work: i64,
    pub parts: Vec<PartLine>,
    pub photos: Vec<PhotoLine>,
    /// Points charged, else estimated, as text ("12.50"); none when neither.
    pub points_charged: Option<String>,
    pub points_estimate: Option<String>,
    pub engineer: String,
    pub signature: Option<SignatureLine>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct EquipmentLine {
    pub vendor: String,
    pub model: String,
    pub serial: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct WorkLine {
    pub at: String,
    pub by: String,
    pub text: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct CheckLine {
    pub label: String,
    pub done: bool,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct VisitLine {
    pub arrived: String,
    pub left: Option<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct PartLine {
    pub part_number: String,
    pub description: String,
    #[ts(type = "number")]
    pub quantity: u64,
    pub status: String,
    pub installed_serial: Option<String>,
    pub removed_serial: Option<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct PhotoLine {
    pub name: String,
    /// The full photo's hash, and its preview's (printed as the thumbnail).
    pub hash: String,
    pub thumbnail: Option<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[ts(export)]
pub struct SignatureLine {
    pub signer: String,
    pub at: String,
    /// The PNG the customer drew.
    pub image: String,
}

impl ServiceReport {
    /// The canonical bytes of what the report shows (stored beside the PDF).
    pub fn data(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a report serialises")
    }

    /// SHA-256 of `data()`, hex: the data hash the PDF prints.
    pub fn data_hash(&self) -> String {
        hex::encode(Sha256::digest(self.data()))
    }

    /// Reads stored report data back.
    pub fn from_data(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// What differs from `signed` (the report the customer signed), in words:
    /// each field that changed, with its value then and now.
    pub fn changes_since(&self, signed: &Self) -> Vec<String> {
        let (now, then) = (flatten(self), flatten(signed));
        let mut changes = Vec::new();
        for (field, was) in &then {
            match now.iter().find(|(f, _)| f == field) {
                Some((_, is)) if is == was => {}
                Some((_, is)) => changes.push(format!("{field}: {was} → {is}")),
                None => changes.push(format!("{field}: {was} → (gone)")),
            }
        }
        for (field, is) in &now {
            if !then.iter().any(|(f, _)| f == field) {
                changes.push(format!("{field}: (none) → {is}"));
            }
        }
        changes
    }
}

/// Every leaf of the report's JSON as (path, value), in order.
fn flatten(report: &ServiceReport) -> Vec<(String, String)> {
    fn walk(path: String, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    walk(path, value, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(format!("{path}[{}]", i + 1), value, out);
                }
            }
            serde_json::Value::Null => {}
            serde_json::Value::String(text) => out.push((path, text.clone())),
            other => out.push((path, other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(String::new(), &serde_json::to_value(report).expect("a report serialises"), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> ServiceReport {
        ServiceReport {
            lang: Lang::Ru,
            company: "Сервис-Центр".into(),
            number: "T-2026-000042".into(),
            title: "Массив деградировал".into(),
            client: "АО «Северный банк»".into(),
            site: "Серверная".into(),
            address: "Новосибирск, Красный пр. 1".into(),
            contact: "Иван Петров, +7 383 000-00-00".into(),
            time_zone: "Asia/Novosibirsk".into(),
            equipment: vec![EquipmentLine {
                vendor: "Huawei".into(),
                model: "OceanStor 5300".into(),
                serial: "SN-1".into(),
            }],
            description: "Отказ диска в полке 2".into(),
            work: vec![WorkLine {
                at: "2026-12-03 10:15".into(), by: "Сергей".into(), text: "Заменён диск".into()
            }],
            resolution_code: Some("replaced".into()),
            resolution: "Диск заменён, массив восстановлен".into(),
            checklist: vec![CheckLine { label: "Питание".into(), done: true }],
            visits: vec![VisitLine { arrived: "2026-12-03 09:50".into(), left: Some("2026-12-03 11:05".into()) }],
            minutes_on_site: 75,
            minutes_travel: 30,
            minutes_work: 60,
            parts: vec![PartLine {
                part_number: "02351LWK".into(),
                description: "Диск 1.2 ТБ".into(),
                quantity: 1,
                status: "installed".into(),
                installed_serial: Some("NEW123".into()),
                removed_serial: Some("OLD456".into()),
            }],
            photos: vec![],
            points_charged: Some("12.50".into()),
            points_estimate: None,
            engineer: "Сергей Кузнецов".into(),
            signature: None,
        }
    }

    #[test]
    fn the_data_hash_covers_every_field_and_reads_back() {
        let report = sample();
        assert_eq!(ServiceReport::from_data(&report.data()).unwrap(), report);
        let mut changed = report.clone();
        changed.parts[0].installed_serial = Some("NEW124".into());
        assert_ne!(changed.data_hash(), report.data_hash());
        assert_eq!(report.data_hash().len(), 64);
    }

    #[test]
    fn changes_since_the_signature_are_said_field_by_field() {
        let signed = sample();
        let mut now = signed.clone();
        assert!(now.changes_since(&signed).is_empty());
        now.resolution = "Диск заменён".into();
        now.work.push(WorkLine {
            at: "2026-12-04 09:00".into(), by: "Диспетчер".into(), text: "Позвонили".into()
        });
        now.points_charged = None;
        let changes = now.changes_since(&signed);
        assert!(
            changes.contains(&"resolution: Диск заменён, массив восстановлен → Диск заменён".to_owned()),
            "{changes:?}"
        );
        assert!(changes.contains(&"points_charged: 12.50 → (gone)".to_owned()), "{changes:?}");
        assert!(changes.iter().any(|c| c.starts_with("work[2].text: (none) → Позвонили")), "{changes:?}");
    }
}
