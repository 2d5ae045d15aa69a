//! Printing results: text for people, JSON for scripts.

use outpost_core::CoreError;
use serde::Serialize;

pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    /// Prints `value` as JSON, or as the text `human` makes of it.
    pub(crate) fn show<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).expect("views serialise"));
        } else {
            let text = human(value);
            if !text.is_empty() {
                println!("{}", text.trim_end());
            }
        }
    }

    /// Confirms an edit: `{"ok": true, ...fields}` or one line of text.
    pub(crate) fn done(&self, message: &str, fields: serde_json::Value) {
        if self.json {
            let mut object = serde_json::json!({ "ok": true });
            if let (Some(o), serde_json::Value::Object(extra)) = (object.as_object_mut(), fields) {
                o.extend(extra);
            }
            println!("{object}");
        } else {
            println!("{message}");
        }
    }

    /// Errors go to stdout as JSON (so a script always reads JSON) or to stderr as text.
    pub(crate) fn error(&self, err: &CoreError) {
        if self.json {
            println!("{}", serde_json::json!({ "ok": false, "error": err.kind(), "message": err.to_string() }));
        } else {
            eprintln!("error: {err}");
        }
    }
}

/// A UTC millisecond timestamp as local time for people.
pub(crate) fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
}

pub(crate) fn opt_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".into(), time)
}
