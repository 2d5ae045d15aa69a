//! Companies, people, API tokens, devices and pairing codes.
//!
//! Secrets (API tokens, device tokens, pairing codes) are shown once and
//! stored only as SHA-256 hashes. A device pairs with a one-time code issued
//! for an engineer and gets a token of its own; a revoked device is still
//! recognised so that its next contact can tell it to wipe.

use outpost_sync::ids::{OrgId, Timestamp, UserId};
use outpost_sync::model::{Actor, Role};
use outpost_sync::policy::DevicePolicy;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing or malformed bearer token")]
    MissingToken,
    #[error("unknown, expired or revoked token")]
    BadToken,
    #[error("unknown, used or expired pairing code")]
    BadPairingCode,
    #[error("pairing codes are issued for engineers and partner engineers only")]
    NotAFieldUser,
    #[error("too many failed pairing attempts; try again in {retry_after_s} s")]
    PairingThrottled { retry_after_s: i64 },
    #[error("this device has a different signing key already")]
    KeyTaken,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("stored account is corrupt: {0}")]
    Corrupt(String),
}

/// Who is calling, as the desk knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub device: Option<Uuid>,
}

/// A device's standing at its latest contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceStanding {
    pub caller: Caller,
    pub revoked: bool,
    /// How far the desk's clock runs ahead of the device's, when the
    /// device's request said what its clock read.
    pub clock: outpost_sync::reactions::DeviceClock,
    /// That offset as the device's last round that said left it.
    pub last_clock_offset_ms: Option<i64>,
    /// What its company asks of its devices out of reach.
    pub policy: DevicePolicy,
}

pub fn role_name(role: Role) -> &'static str {
    role.code()
}

pub fn parse_role(name: &str) -> Option<Role> {
    Role::parse(name)
}

/// A new random secret, hex-encoded: 32 bytes for tokens.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    hex::encode(bytes)
}

/// A pairing code a person can type: 10 characters, no look-alikes.
pub fn new_pairing_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

pub fn new_id() -> Uuid {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).expect("the operating system provides randomness");
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

fn parse_uuid(text: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(text).map_err(|_| AuthError::Corrupt(format!("bad id {text:?}")))
}

fn actor_from_row(user: &str, org: &str, role: &str) -> Result<Actor, AuthError> {
    Ok(Actor {
        user: UserId(parse_uuid(user)?),
        org: OrgId(parse_uuid(org)?),
        role: parse_role(role).ok_or_else(|| AuthError::Corrupt(format!("bad role {role:?}")))?,
    })
}

pub async fn create_org(pool: &AnyPool, name: &str, is_service: bool) -> Result<OrgId, AuthError> {
    let id = new_id();
    sqlx::query("INSERT INTO orgs (id, name, is_service) VALUES ($1, $2, $3)")
        .bind(id.to_string())
        .bind(name)
        .bind(i64::from(is_service))
        .execute(pool)
        .await?;
    Ok(OrgId(id))
}

/// Whether the company exists.
pub async fn org_exists(pool: &AnyPool, org: OrgId) -> Result<bool, AuthError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM orgs WHERE id = $1").bind(org.to_string()).fetch_optional(pool).await?;
    Ok(row.is_some())
}

/// What the company asks of its devices out of reach (nothing, unless set).
pub async fn device_policy(pool: &AnyPool, org: OrgId) -> Result<DevicePolicy, AuthError> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT contact_window_days FROM device_policies WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(policy_from_row(row.and_then(|(days,)| days)))
}

fn policy_from_row(contact_window_days: Option<i64>) -> DevicePolicy {
    DevicePolicy { contact_window_days: contact_window_days.and_then(|d| u32::try_from(d).ok()) }
}

/// Sets the company's device policy; devices get it with their next sync reply.
pub async fn set_device_policy(
    pool: &AnyPool,
    org: OrgId,
    policy: &DevicePolicy,
    now: Timestamp,
) -> Result<(), AuthError> {
    sqlx::query(
        "INSERT INTO device_policies (org_id, contact_window_days, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (org_id) DO UPDATE SET contact_window_days = excluded.contact_window_days, updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(policy.contact_window_days.map(i64::from))
    .bind(now.0)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether the company exists and is a service partner (not the service company itself).
pub async fn is_partner(pool: &AnyPool, org: OrgId) -> Result<bool, AuthError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT is_service FROM orgs WHERE id = $1").bind(org.to_string()).fetch_optional(pool).await?;
    Ok(row.is_some_and(|(is_service,)| is_service == 0))
}

pub async fn org_by_name(pool: &AnyPool, name: &str) -> Result<Option<OrgId>, AuthError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM orgs WHERE name = $1").bind(name).fetch_optional(pool).await?;
    row.map(|(id,)| parse_uuid(&id).map(OrgId)).transpose()
}

pub async fn create_user(
    pool: &AnyPool,
    org: OrgId,
    name: &str,
    role: Role,
    now: Timestamp,
) -> Result<UserId, AuthError> {
    let id = new_id();
    sqlx::query("INSERT INTO users (id, org_id, name, role, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.to_string())
        .bind(org.to_string())
        .bind(name)
        .bind(role_name(role))
        .bind(now.0)
        .execute(pool)
        .await?;
    Ok(UserId(id))
}

/// The first person (by id, so by creation) with `role`: the demo's first engineer, say.
pub async fn first_user_with_role(pool: &AnyPool, role: Role) -> Result<Option<UserId>, AuthError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE role = $1 ORDER BY id LIMIT 1")
        .bind(role_name(role))
        .fetch_optional(pool)
        .await?;
    row.map(|(id,)| parse_uuid(&id).map(UserId)).transpose()
}

pub async fn user_actor(pool: &AnyPool, user: UserId) -> Result<Option<Actor>, AuthError> {
    let row: Option<(String, String, String)> = sqlx::query_as("SELECT id, org_id, role FROM users WHERE id = $1")
        .bind(user.to_string())
        .fetch_optional(pool)
        .await?;
    row.map(|(u, o, r)| actor_from_row(&u, &o, &r)).transpose()
}

/// Issues an API token for a desk user; returns it in clear, once.
pub async fn issue_api_token(
    pool: &AnyPool,
    user: UserId,
    label: &str,
    now: Timestamp,
    expires_at: Option<Timestamp>,
) -> Result<String, AuthError> {
    let token = new_secret();
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, user_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&token))
    .bind(user.to_string())
    .bind(label)
    .bind(now.0)
    .bind(expires_at.map(|t| t.0))
    .execute(pool)
    .await?;
    Ok(token)
}

pub async fn caller_by_api_token(pool: &AnyPool, token: &str, now: Timestamp) -> Result<Caller, AuthError> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.org_id, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(hash_secret(token))
    .bind(now.0)
    .fetch_optional(pool)
    .await?;
    let (u, o, r) = row.ok_or(AuthError::BadToken)?;
    Ok(Caller { actor: actor_from_row(&u, &o, &r)?, device: None })
}

/// Issues a one-time pairing code for a field user, valid for `ttl_ms`.
pub async fn issue_pairing_code(
    pool: &AnyPool,
    user: UserId,
    now: Timestamp,
    ttl_ms: i64,
) -> Result<String, AuthError> {
    let actor = user_actor(pool, user).await?.ok_or(AuthError::NotAFieldUser)?;
    if !actor.role.is_field() {
        return Err(AuthError::NotAFieldUser);
    }
    let code = new_pairing_code();
    sqlx::query("INSERT INTO pairing_codes (code_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash_secret(&code))
        .bind(user.to_string())
        .bind(now.0)
        .bind(now.0 + ttl_ms)
        .execute(pool)
        .await?;
    Ok(code)
}

/// A newly paired device: its id, its token (shown once) and who it acts for.
#[derive(Clone, Debug)]
pub struct PairedDevice {
    pub id: Uuid,
    pub token: String,
    pub actor: Actor,
}

/// The window over which failed pairing attempts are counted.
pub const PAIRING_WINDOW_MS: i64 = 15 * 60_000;
/// Failed pairing attempts from one address within the window before it must wait.
pub const PAIRING_FAILURES_PER_ADDRESS: i64 = 10;
/// Failed pairing attempts from everywhere within the window before everyone
/// must wait: guessing from many addresses is slowed down too.
pub const PAIRING_FAILURES_IN_TOTAL: i64 = 200;

/// Refuses a pairing attempt from `address` while too many have failed
/// lately, from there or in total. The counts live in the database, so
/// every desk process behind one PostgreSQL sees the same.
pub async fn check_pairing_throttle(pool: &AnyPool, address: &str, now: Timestamp) -> Result<(), AuthError> {
    let since = now.0 - PAIRING_WINDOW_MS;
    let (from_address, oldest_here): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(at) FROM pairing_failures WHERE address = $1 AND at > $2")
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await?;
    let (in_total, oldest): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(at) FROM pairing_failures WHERE at > $1")
            .bind(since)
            .fetch_one(pool)
            .await?;
    let wait_from = if from_address >= PAIRING_FAILURES_PER_ADDRESS {
        oldest_here
    } else if in_total >= PAIRING_FAILURES_IN_TOTAL {
        oldest
    } else {
        return Ok(());
    };
    let retry_after_s = (wait_from.unwrap_or(now.0) + PAIRING_WINDOW_MS - now.0).max(1_000) / 1_000;
    Err(AuthError::PairingThrottled { retry_after_s })
}

/// Counts a failed pairing attempt, and forgets those older than the window.
pub async fn record_pairing_failure(pool: &AnyPool, address: &str, now: Timestamp) -> Result<(), AuthError> {
    sqlx::query("DELETE FROM pairing_failures WHERE at <= $1").bind(now.0 - PAIRING_WINDOW_MS).execute(pool).await?;
    sqlx::query("INSERT INTO pairing_failures (address, at) VALUES ($1, $2)")
        .bind(address)
        .bind(now.0)
        .execute(pool)
        .await?;
    Ok(())
}

/// Spends a pairing code on a new device. A code works once, before it expires.
pub async fn pair_device(
    pool: &AnyPool,
    code: &str,
    device_name: &str,
    public_key: Option<&str>,
    now: Timestamp,
) -> Result<PairedDevice, AuthError> {
    let mut tx = pool.begin().await?;
    let spent: Option<(String,)> = sqlx::query_as(
        "UPDATE pairing_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
    )
    .bind(now.0)
    .bind(hash_secret(&code.to_uppercase()))
    .fetch_optional(&mut *tx)
    .await?;
    let (user,) = spent.ok_or(AuthError::BadPairingCode)?;
    let id = new_id();
    let token = new_secret();
    sqlx::query(
        "INSERT INTO devices (id, user_id, name, token_hash, created_at, public_key) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(&user)
    .bind(device_name)
    .bind(hash_secret(&token))
    .bind(now.0)
    .bind(public_key)
    .execute(&mut *tx)
    .await?;
    let row: (String, String, String) =
        sqlx::query_as("SELECT id, org_id, role FROM users WHERE id = $1").bind(&user).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(PairedDevice { id, token, actor: actor_from_row(&row.0, &row.1, &row.2)? })
}

/// Finds the device a token belongs to, revoked or not, and notes the contact.
/// How stale a device's `last_seen_at` may get before a request updates it.
pub const LAST_SEEN_PRECISION_MS: i64 = 60_000;

pub async fn device_by_token(pool: &AnyPool, token: &str, now: Timestamp) -> Result<DeviceStanding, AuthError> {
    // (device, user, org, role, revoked at, last seen at, clock offset, contact window)
    type Row = (String, String, String, String, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT d.id, u.id, u.org_id, u.role, d.revoked_at, d.last_seen_at, d.clock_offset_ms, p.contact_window_days
         FROM devices d JOIN users u ON u.id = d.user_id
         LEFT JOIN device_policies p ON p.org_id = u.org_id WHERE d.token_hash = $1",
    )
    .bind(hash_secret(token))
    .fetch_optional(pool)
    .await?;
    let (device, u, o, r, revoked_at, last_seen, last_clock_offset_ms, window) = row.ok_or(AuthError::BadToken)?;
    // A write of its own for every request would queue each round behind
    // the write lock twice; to the minute is what "last seen" needs.
    if last_seen.is_none_or(|seen| now.0 - seen >= LAST_SEEN_PRECISION_MS || now.0 < seen) {
        sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
            .bind(now.0)
            .bind(&device)
            .execute(pool)
            .await?;
    }
    Ok(DeviceStanding {
        caller: Caller { actor: actor_from_row(&u, &o, &r)?, device: Some(parse_uuid(&device)?) },
        revoked: revoked_at.is_some(),
        clock: Default::default(),
        last_clock_offset_ms,
        policy: policy_from_row(window),
    })
}

/// Offsets closer than this are the same clock (network delays move them).
const CLOCK_PRECISION_MS: i64 = 2_000;
/// A device whose clock moved by more than this between rounds had it changed.
pub const CLOCK_JUMP_MS: i64 = 5 * 60_000;

/// Keeps the offset a device's round measured, when it moved (a write only
/// then, not every round), and audits a clock that jumped since the last.
pub async fn record_clock(
    db: &crate::Db,
    device: &DeviceStanding,
    now: Timestamp,
) -> Result<(), crate::store::StoreError> {
    let (Some(offset), Some(id)) = (device.clock.desk_ahead_ms, device.caller.device) else { return Ok(()) };
    let moved = device.last_clock_offset_ms.map(|last| offset.saturating_sub(last));
    if moved.is_some_and(|m| m.abs() < CLOCK_PRECISION_MS) {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE devices SET clock_offset_ms = $1 WHERE id = $2")
        .bind(offset)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    if let Some(moved) = moved.filter(|m| m.abs() > CLOCK_JUMP_MS) {
        let detail = format!(
            "the device's clock moved {} min {} the desk's since its last round: times it entered meanwhile may be off",
            moved.abs() / 60_000,
            if moved > 0 { "back against" } else { "ahead of" }
        );
        let device_id = id.to_string();
        crate::store::audit(&mut tx, now, Some(&device.caller.actor), Some(&device_id), None, "clock_changed", &detail)
            .await?;
    }
    Ok(tx.commit().await?)
}

/// Keeps the public key a device paired before hand-off files made for
/// itself. A device has one key for its life: another one is refused, so a
/// stolen token cannot swap in a key of the thief's.
pub async fn register_device_key(pool: &AnyPool, device: Uuid, public_key: &str) -> Result<(), AuthError> {
    sqlx::query("UPDATE devices SET public_key = $1 WHERE id = $2 AND public_key IS NULL")
        .bind(public_key)
        .bind(device.to_string())
        .execute(pool)
        .await?;
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT public_key FROM devices WHERE id = $1")
        .bind(device.to_string())
        .fetch_optional(pool)
        .await?;
    match row {
        Some((Some(kept),)) if kept == public_key => Ok(()),
        Some(_) => Err(AuthError::KeyTaken),
        None => Err(AuthError::BadToken),
    }
}

/// A device as a hand-off file names it: who it acts for, its key, and
/// how far its files have got.
#[derive(Clone, Debug)]
pub struct HandoffDevice {
    pub standing: DeviceStanding,
    pub public_key: Option<String>,
    /// The last outbox file the desk took from it.
    pub sequence: Option<u64>,
    /// The feed position that file said the device had reached.
    pub cursor: Option<u64>,
}

pub async fn handoff_device(pool: &AnyPool, device: Uuid) -> Result<Option<HandoffDevice>, AuthError> {
    // (user, org, role, revoked at, clock offset, public key, sequence, cursor, contact window)
    type Row =
        (String, String, String, Option<i64>, Option<i64>, Option<String>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT u.id, u.org_id, u.role, d.revoked_at, d.clock_offset_ms, d.public_key, d.handoff_sequence,
                d.handoff_cursor, p.contact_window_days
         FROM devices d JOIN users u ON u.id = d.user_id
         LEFT JOIN device_policies p ON p.org_id = u.org_id WHERE d.id = $1",
    )
    .bind(device.to_string())
    .fetch_optional(pool)
    .await?;
    let Some((u, o, r, revoked_at, offset, public_key, sequence, cursor, window)) = row else { return Ok(None) };
    Ok(Some(HandoffDevice {
        standing: DeviceStanding {
            caller: Caller { actor: actor_from_row(&u, &o, &r)?, device: Some(device) },
            revoked: revoked_at.is_some(),
            clock: Default::default(),
            last_clock_offset_ms: offset,
            policy: policy_from_row(window),
        },
        public_key,
        sequence: sequence.and_then(|s| u64::try_from(s).ok()),
        cursor: cursor.and_then(|c| u64::try_from(c).ok()),
    }))
}

/// What revoking a person took from them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub api_tokens: u64,
    /// Each is told to wipe its data at its next contact.
    pub devices: u64,
    pub pairing_codes: u64,
}

/// Revokes everything a person holds, in one transaction: API tokens,
/// devices (told to wipe at their next contact) and unused pairing codes.
pub async fn revoke_person(pool: &AnyPool, user: UserId, now: Timestamp) -> Result<Revoked, AuthError> {
    let mut tx = pool.begin().await?;
    let user = user.to_string();
    let mut taken = [0u64; 3];
    for (count, statement) in taken.iter_mut().zip([
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        "UPDATE devices SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        "UPDATE pairing_codes SET expires_at = $1 WHERE user_id = $2 AND used_at IS NULL AND expires_at > $1",
    ]) {
        *count = sqlx::query(statement).bind(now.0).bind(&user).execute(&mut *tx).await?.rows_affected();
    }
    let [api_tokens, devices, pairing_codes] = taken;
    let detail = format!("revoked {api_tokens} API token(s), {devices} device(s), {pairing_codes} pairing code(s)");
    sqlx::query("INSERT INTO audit_log (at, user_id, device_id, doc_id, action, detail) VALUES ($1, $2, NULL, NULL, 'person_revoked', $3)")
        .bind(now.0)
        .bind(&user)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Revoked { api_tokens, devices, pairing_codes })
}

pub async fn revoke_device(pool: &AnyPool, device: Uuid, now: Timestamp) -> Result<bool, AuthError> {
    let done = sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now.0)
        .bind(device.to_string())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
