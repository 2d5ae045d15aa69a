//! The OpenAPI document at `/api/openapi.json`, built from one table of
//! routes. A test requests every documented route and fails if the router
//! does not know it.

use serde_json::{json, Map, Value};

/// How a route is authorised.
#[derive(Clone, Copy)]
pub(crate) enum Auth {
    None,
    ApiToken,
    DeviceToken,
    DeviceOrApiToken,
    PairingCode,
}

/// (method, path, summary, auth, request body media type)
pub(crate) const ROUTES: &[(&str, &str, &str, Auth, Option<&str>)] = &[
    ("get", "/healthz", "Liveness, with a database ping.", Auth::None, None),
    ("get", "/metrics", "Prometheus metrics.", Auth::None, None),
    ("get", "/api/openapi.json", "This document.", Auth::None, None),
    (
        "post",
        "/v1/devices/pair",
        "Spend a one-time pairing code on a new device; returns its token.",
        Auth::PairingCode,
        Some("application/json"),
    ),
    (
        "post",
        "/v1/sync",
        "One sync round (binary outpost-sync messages).",
        Auth::DeviceToken,
        Some("application/x-outpost-sync"),
    ),
    (
        "get",
        "/v1/blobs/{hash}",
        "Download a complete blob reachable through a readable document.",
        Auth::DeviceOrApiToken,
        None,
    ),
    (
        "put",
        "/v1/blobs/{hash}",
        "Upload a chunk at ?offset=N; &last=true verifies the hash and completes.",
        Auth::DeviceOrApiToken,
        Some("application/octet-stream"),
    ),
    (
        "get",
        "/v1/blobs/{hash}/status",
        "How much of a blob the desk holds, to resume an upload.",
        Auth::DeviceOrApiToken,
        None,
    ),
    (
        "post",
        "/v1/users/{id}/pairing-codes",
        "Issue a pairing code for an engineer (admin, dispatcher).",
        Auth::ApiToken,
        None,
    ),
    ("get", "/v1/devices", "Paired devices (admin, dispatcher).", Auth::ApiToken, None),
    (
        "post",
        "/v1/devices/{id}/revoke",
        "Revoke a device; its next contact is told to wipe (admin, dispatcher).",
        Auth::ApiToken,
        None,
    ),
    ("get", "/v1/audit", "The audit log, newest first (admin, dispatcher).", Auth::ApiToken, None),
    (
        "get",
        "/v1/tickets",
        "Tickets: status, team, support_level, region, assignee, partner_org, breached, due_within_hours, q, limit, offset.",
        Auth::ApiToken,
        None,
    ),
    (
        "post",
        "/v1/tickets",
        "Open a ticket with its client, site, contact, equipment, checklist template, priority, team, level and billing; SLA deadlines from priority and the client's contract hours; the entitlement decided.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "get",
        "/v1/tickets/{id}",
        "A ticket, its folded status and assignee, and its conflicts in words.",
        Auth::ApiToken,
        None,
    ),
    (
        "patch",
        "/v1/tickets/{id}",
        "Change title, description (merged), priority (deadlines counted again, the old ones kept), category, team, support level (an escalation), deadlines, billing, paid, equipment, checklist template.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "post",
        "/v1/tickets/{id}/status",
        "Cancel, close, or take back (to: cancelled, closed, new).",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "post",
        "/v1/tickets/{id}/assign",
        "Assign to an engineer (a partner's engineer brings the partner) or a partner company; a per-call ticket must be paid first.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "get",
        "/v1/tickets/{id}/timeline",
        "Where a ticket's time went: each stretch of one status and assignee, hours per status, and how its deadlines went.",
        Auth::ApiToken,
        None,
    ),
    (
        "get",
        "/v1/reports/sla",
        "SLA compliance of the tickets opened in [from, to) (ms), by client, team, region, partner or engineer; format json or csv.",
        Auth::ApiToken,
        None,
    ),
    (
        "get",
        "/v1/reports/labour",
        "Travel and work hours in [from, to), by engineer (with utilisation over hours_per_day on weekdays), partner, client, team or region; format json or csv.",
        Auth::ApiToken,
        None,
    ),
    (
        "get",
        "/v1/reports/points",
        "Per client: points charged by tickets resolved in [from, to), the balance now, low balances flagged; format json or csv.",
        Auth::ApiToken,
        None,
    ),
    (
        "post",
        "/v1/tickets/{id}/notes",
        "Add the desk's note to the ticket's work log, beside the engineer's.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    ("get", "/v1/orgs", "Companies (admin, dispatcher).", Auth::ApiToken, None),
    ("post", "/v1/orgs", "Add a service partner (admin).", Auth::ApiToken, Some("application/json")),
    ("get", "/v1/users", "People (admin, dispatcher).", Auth::ApiToken, None),
    (
        "post",
        "/v1/users",
        "Add a person; returns an API token or a pairing code, once (admin).",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "post",
        "/v1/users/{id}/revoke",
        "Revoke everything a person holds: API tokens, devices (told to wipe), pairing codes (admin).",
        Auth::ApiToken,
        None,
    ),
    ("get", "/v1/teams", "Product teams.", Auth::ApiToken, None),
    ("post", "/v1/teams", "Add a product team (admin, dispatcher).", Auth::ApiToken, Some("application/json")),
    ("get", "/v1/clients", "Clients with contract hours and points (desk people).", Auth::ApiToken, None),
    (
        "post",
        "/v1/clients",
        "Add a client: always, or weekly windows; holidays; points (admin, dispatcher).",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "patch",
        "/v1/clients/{id}",
        "Change a client's name, contract or points balance.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    ("get", "/v1/sites", "Sites.", Auth::ApiToken, None),
    ("post", "/v1/sites", "Add a site of a client, in its time zone.", Auth::ApiToken, Some("application/json")),
    ("get", "/v1/kb-articles", "Knowledge-base articles.", Auth::ApiToken, None),
    (
        "post",
        "/v1/kb-articles",
        "Add an article; devices receive it for offline reading.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "patch",
        "/v1/kb-articles/{id}",
        "Change an article's title, body or tags.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    ("get", "/v1/checklist-templates", "Checklist templates.", Auth::ApiToken, None),
    ("post", "/v1/checklist-templates", "Add a checklist template.", Auth::ApiToken, Some("application/json")),
    ("get", "/v1/part-requests", "Part requests: status, ticket, limit.", Auth::ApiToken, None),
    (
        "post",
        "/v1/part-requests/{id}/{action}",
        "approve, reject, pick, ship (tracking_number), cancel or receive-return; the engineer confirms delivery.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    ("get", "/v1/equipment", "Equipment: serial, client, limit.", Auth::ApiToken, None),
    ("post", "/v1/equipment", "Register equipment.", Auth::ApiToken, Some("application/json")),
    (
        "patch",
        "/v1/equipment/{id}",
        "Change model, vendor, class, site, location, coverage, attributes.",
        Auth::ApiToken,
        Some("application/json"),
    ),
    (
        "post",
        "/v1/equipment/import",
        "Import equipment from CSV; returns a per-row error report.",
        Auth::ApiToken,
        Some("text/csv"),
    ),
];

pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, auth, body) in ROUTES {
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let security = match auth {
            Auth::None | Auth::PairingCode => json!([]),
            Auth::ApiToken => json!([{ "apiToken": [] }]),
            Auth::DeviceToken => json!([{ "deviceToken": [] }]),
            Auth::DeviceOrApiToken => json!([{ "deviceToken": [] }, { "apiToken": [] }]),
        };
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters,
            "security": security,
            "responses": {
                "200": { "description": "Done." },
                "400": { "description": "Malformed input; the message says what." },
                "401": { "description": "Missing, unknown, expired or revoked credentials." },
                "403": { "description": "The caller's role may not do this." },
                "404": { "description": "No such thing, or not the caller's to see." }
            }
        });
        if let Some(media) = body {
            operation["requestBody"] = json!({ "required": true, "content": { (*media): {} } });
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Outpost desk", "version": env!("CARGO_PKG_VERSION") },
        "servers": [{ "url": "http://127.0.0.1:8710" }],
        "paths": paths,
        "components": { "securitySchemes": {
            "apiToken": { "type": "http", "scheme": "bearer", "description": "A desk user's API token." },
            "deviceToken": { "type": "http", "scheme": "bearer", "description": "A paired device's token." }
        } }
    })
}
