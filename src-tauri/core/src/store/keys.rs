//! Where a store's key lives: never in the data directory.
//!
//! Each store has a random 256-bit key, made when the store is created (or
//! when a plain store from an earlier version is encrypted). It is kept in
//! the platform's key store (the Secret Service on Linux, the Keychain on
//! macOS, the Credential Manager on Windows) under the store's id; a machine
//! with none (a headless CLI, a server without a desktop session) keeps it
//! in a key directory outside the data directory, readable by its owner only.

use std::path::{Path, PathBuf};

/// The name keys are filed under in the platform's key store.
const SERVICE: &str = "outpost-store";
/// Set to a directory to keep keys there instead of the platform's key store.
pub const KEY_DIR_ENV: &str = "OUTPOST_KEY_DIR";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key store cannot be used: {0}")]
    Unavailable(String),
    #[error("the key directory {0} is inside the data directory; keys must be kept apart from the data they open")]
    InsideDataDir(PathBuf),
    #[error("the key file {0} is damaged")]
    Damaged(PathBuf),
    #[error("key directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// A store's key: 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl StoreKey {
    pub(crate) fn random() -> Self {
        let mut bytes = [0; 32];
        getrandom::fill(&mut bytes).expect("the operating system provides randomness");
        Self(bytes)
    }

    fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// SQLCipher's `PRAGMA key` value for a raw key (no key derivation: the key is random).
    pub(crate) fn pragma(&self) -> String {
        format!("\"x'{}'\"", self.to_hex())
    }
}

/// Where keys are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyStore {
    /// The platform's key store.
    Platform,
    /// Files in a directory outside every data directory, one per store, readable by the owner only.
    Directory(PathBuf),
}

impl KeyStore {
    /// What this machine offers: the directory named by `OUTPOST_KEY_DIR`,
    /// else the platform's key store when one answers, else
    /// `$XDG_CONFIG_HOME/outpost/keys` (or `~/.config/outpost/keys`).
    pub fn for_this_machine() -> Self {
        if let Some(dir) = std::env::var_os(KEY_DIR_ENV).filter(|d| !d.is_empty()) {
            return Self::Directory(PathBuf::from(dir));
        }
        if platform::available() {
            return Self::Platform;
        }
        Self::Directory(default_key_dir())
    }

    /// Says where keys go, for the user.
    pub fn describe(&self) -> String {
        match self {
            Self::Platform => platform::NAME.to_string(),
            Self::Directory(dir) => format!("the key directory {}", dir.display()),
        }
    }

    /// Refuses a key directory inside the data directory.
    pub(crate) fn check_apart_from(&self, data_dir: &Path) -> Result<(), KeyError> {
        if let Self::Directory(dir) = self {
            if resolve(dir).starts_with(resolve(data_dir)) {
                return Err(KeyError::InsideDataDir(dir.clone()));
            }
        }
        Ok(())
    }

    pub(crate) fn load(&self, store_id: &str) -> Result<Option<StoreKey>, KeyError> {
        match self {
            Self::Platform => platform::load(store_id),
            Self::Directory(dir) => {
                let path = key_file(dir, store_id);
                match std::fs::read_to_string(&path) {
                    Ok(text) => StoreKey::from_hex(&text).map(Some).ok_or(KeyError::Damaged(path)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(KeyError::Io(path, e)),
                }
            }
        }
    }

    /// Keeps the key durably before any data is written with it.
    pub(crate) fn save(&self, store_id: &str, key: &StoreKey) -> Result<(), KeyError> {
        match self {
            Self::Platform => platform::save(store_id, key),
            Self::Directory(dir) => {
                let io = |e| KeyError::Io(dir.clone(), e);
                create_private_dir(dir).map_err(io)?;
                super::durable::replace_file(&key_file(dir, store_id), key.to_hex().as_bytes(), true).map_err(io)
            }
        }
    }
}

/// The path with its links and `..` resolved as far as it exists.
fn resolve(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn key_file(dir: &Path, store_id: &str) -> PathBuf {
    dir.join(format!("{store_id}.key"))
}

fn default_key_dir() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(std::env::temp_dir);
    config.join("outpost").join("keys")
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The platform's key store, through the `keyring` crate.
mod platform {
    use super::{KeyError, StoreKey, SERVICE};

    #[cfg(target_os = "linux")]
    pub(super) const NAME: &str = "the Secret Service";
    #[cfg(target_os = "macos")]
    pub(super) const NAME: &str = "the Keychain";
    #[cfg(target_os = "windows")]
    pub(super) const NAME: &str = "the Credential Manager";
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    pub(super) const NAME: &str = "the platform's key store";

    fn entry(store_id: &str) -> Result<keyring::Entry, KeyError> {
        keyring::Entry::new(SERVICE, store_id).map_err(|e| KeyError::Unavailable(e.to_string()))
    }

    /// Whether a key store answers: looking up a name that is never stored
    /// says "no entry" when one does, and fails otherwise.
    pub(super) fn available() -> bool {
        #[cfg(target_os = "linux")]
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            return false;
        }
        matches!(entry("probe").map(|e| e.get_password()), Ok(Err(keyring::Error::NoEntry)))
    }

    pub(super) fn load(store_id: &str) -> Result<Option<StoreKey>, KeyError> {
        match entry(store_id)?.get_password() {
            Ok(text) => StoreKey::from_hex(&text)
                .map(Some)
                .ok_or_else(|| KeyError::Unavailable("the stored key is damaged".into())),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyError::Unavailable(e.to_string())),
        }
    }

    pub(super) fn save(store_id: &str, key: &StoreKey) -> Result<(), KeyError> {
        entry(store_id)?.set_password(&key.to_hex()).map_err(|e| KeyError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_directory_keeps_keys_for_its_owner_only() {
        let home = tempfile::tempdir().unwrap();
        let keys = KeyStore::Directory(home.path().join("keys"));
        assert_eq!(keys.load("a").unwrap(), None);
        let key = StoreKey::random();
        keys.save("a", &key).unwrap();
        assert_eq!(keys.load("a").unwrap(), Some(key.clone()));
        assert_ne!(StoreKey::random(), key, "keys are random");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&home.path().join("keys")), 0o700);
            assert_eq!(mode(&home.path().join("keys/a.key")), 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_reported_not_replaced() {
        let home = tempfile::tempdir().unwrap();
        let keys = KeyStore::Directory(home.path().to_path_buf());
        std::fs::write(home.path().join("a.key"), "not hex").unwrap();
        assert!(matches!(keys.load("a"), Err(KeyError::Damaged(_))));
        std::fs::write(home.path().join("a.key"), "abcd").unwrap();
        assert!(matches!(keys.load("a"), Err(KeyError::Damaged(_))), "too short");
    }

    #[test]
    fn a_key_directory_inside_the_data_directory_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let inside = KeyStore::Directory(data.join("keys"));
        assert!(matches!(inside.check_apart_from(&data), Err(KeyError::InsideDataDir(_))));
        let beside = KeyStore::Directory(home.path().join("keys"));
        beside.check_apart_from(&data).unwrap();
        let dotted = KeyStore::Directory(data.join("..").join("data").join("k"));
        assert!(dotted.check_apart_from(&data).is_err(), "a path that leads back inside is inside");
        KeyStore::Platform.check_apart_from(&data).unwrap();
    }
}
