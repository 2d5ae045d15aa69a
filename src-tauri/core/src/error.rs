//! What can go wrong in the app's core, sorted by what the user can do about it.

use outpost_sync::model::SchemaError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("no {kind} {id} on this device")]
    NotFound { kind: &'static str, id: String },
    /// The edit breaks the workflow or the user's permissions; the desk would refuse it.
    #[error("not allowed: {0}")]
    Refused(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("this device is not paired with a desk; pair it first")]
    NotPaired,
    #[error("this device is already paired with {0}")]
    AlreadyPaired(String),
    #[error("the desk cannot be reached: {0}")]
    Offline(String),
    #[error("the desk refused the request: {0}")]
    Desk(String),
    #[error("this device was revoked at the desk and its data erased")]
    Wiped,
    #[error("{0} documents have changes the desk has not received yet")]
    Unsynced(u64),
    #[error("local store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("a stored document is damaged: {0}")]
    Damaged(String),
}

/// The kinds of error a user interface or a script switches on.
#[derive(ts_rs::TS, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    NotFound,
    Refused,
    Invalid,
    NotPaired,
    AlreadyPaired,
    Offline,
    Desk,
    Wiped,
    Unsynced,
    Internal,
}

impl CoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Refused(_) => ErrorKind::Refused,
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotPaired => ErrorKind::NotPaired,
            Self::AlreadyPaired(_) => ErrorKind::AlreadyPaired,
            Self::Offline(_) => ErrorKind::Offline,
            Self::Desk(_) => ErrorKind::Desk,
            Self::Wiped => ErrorKind::Wiped,
            Self::Unsynced(_) => ErrorKind::Unsynced,
            Self::Store(_) | Self::Damaged(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl ToString) -> Self {
        Self::NotFound { kind, id: id.to_string() }
    }
}

impl From<SchemaError> for CoreError {
    /// Schema errors met while editing are the user's input breaking a limit.
    fn from(err: SchemaError) -> Self {
        Self::Invalid(err.to_string())
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
