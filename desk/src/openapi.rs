//! The OpenAPI document at `/api/openapi.json`.
//!
//! Each handler's `#[utoipa::path]` attribute describes its route, its
//! parameters, its body and its answers by the Rust types it reads and
//! writes, and the router is built from those same attributes
//! (`utoipa_axum::routes!`), so the document cannot list a route the desk
//! does not serve, or miss one. What every route shares (which credential
//! it takes, how its refusals look) is added here once, by the rule the
//! router itself follows. No server address is written in: a client
//! resolves paths against wherever it fetched the document from.

use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{Modify, OpenApi};

use crate::routes::Credential;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Outpost desk",
        description = "The desk's API for its people and integrations: tickets, parts, equipment, reference data, \
                       people and devices, reports. Devices sync through `POST /v1/sync` (binary outpost-sync \
                       messages). Every refusal is a JSON `Error` with a kind and a message."
    ),
    components(schemas(crate::error::ErrorBody))
)]
pub(crate) struct Desk;

/// The document, built once from the routes.
pub(crate) fn document() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, document) = crate::routes::router_and_document();
        serde_json::to_value(document).expect("an OpenAPI document is JSON")
    })
}

/// Credentials and refusals, added to every operation by its path once
/// the routes are in.
pub(crate) struct Shared;

const API_TOKEN: &str = "api_token";
const DEVICE_TOKEN: &str = "device_token";

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(API_TOKEN, bearer("A desk user's API token (`outpost-desk user add`)."));
        components.add_security_scheme(DEVICE_TOKEN, bearer("A paired device's token (`POST /v1/devices/pair`)."));
        for (path, item) in &mut openapi.paths.paths {
            let credential = Credential::of(path);
            for (method, operation) in operations(item) {
                operation.security = Some(security(credential));
                for response in operation.responses.responses.values_mut() {
                    if let utoipa::openapi::RefOr::T(response) = response {
                        if response.description.is_empty() {
                            "Done.".clone_into(&mut response.description);
                        }
                    }
                }
                for (status, why) in refusals(credential, path, method, operation) {
                    operation.responses.responses.entry(status.to_string()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(why)
                            .content(
                                "application/json",
                                ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build(),
                            )
                            .build()
                            .into()
                    });
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
}

fn security(credential: Credential) -> Vec<SecurityRequirement> {
    let one = |name: &str| SecurityRequirement::new::<_, [&str; 0], &str>(name, []);
    match credential {
        Credential::None | Credential::PairingCode => vec![SecurityRequirement::default()],
        Credential::ApiToken => vec![one(API_TOKEN)],
        Credential::DeviceToken => vec![one(DEVICE_TOKEN)],
        Credential::DeviceOrApiToken => vec![one(DEVICE_TOKEN), one(API_TOKEN)],
    }
}

/// The refusals an operation may answer with, by what it takes.
fn refusals(credential: Credential, path: &str, method: HttpMethod, operation: &Operation) -> Vec<(u16, &'static str)> {
    let mut refusals = Vec::new();
    if credential == Credential::None {
        return refusals;
    }
    refusals.push((400, "Malformed input: a path, query or body value the desk cannot take; the message says which."));
    match credential {
        Credential::PairingCode => {
            refusals.push((401, "The pairing code is unknown, spent or expired."));
            refusals.push((429, "Too many failed pairings from this address; `Retry-After` says when to try again."));
        }
        _ => {
            refusals.push((401, "Missing, unknown, expired or revoked credentials."));
            refusals.push((403, "The caller's role may not do this."));
        }
    }
    if path.contains('{') {
        refusals.push((404, "No such thing, or not the caller's to see."));
    }
    if method != HttpMethod::Get {
        refusals.push((409, "The thing is not in a state that allows this; the message says why."));
    }
    if operation.request_body.is_some() {
        refusals.push((413, "The body is larger than this route takes."));
        refusals.push((415, "The body is not of the media type this route takes."));
        refusals.push((422, "Well-formed JSON of the wrong shape: unknown or missing fields, wrong types."));
    }
    refusals
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_document_names_no_server_and_describes_every_answer() {
        let (_, document) = crate::routes::router_and_document();
        let json = serde_json::to_value(&document).unwrap();
        assert!(json.get("servers").is_none(), "no server address is written in");
        let paths = json["paths"].as_object().unwrap();
        assert!(paths.len() >= 30, "every route is described: {}", paths.len());
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                let ok = responses.keys().find(|s| s.starts_with('2'));
                assert!(ok.is_some(), "{method} {path} documents its answer");
                if path.starts_with("/v1/") {
                    assert!(responses.contains_key("401"), "{method} {path} documents its 401");
                    assert!(responses.contains_key("400"), "{method} {path} documents its 400");
                }
                if path.contains('{') {
                    assert!(responses.contains_key("404"), "{method} {path} documents its 404");
                }
            }
        }
        let ticket = &json["components"]["schemas"]["Ticket"];
        assert_eq!(ticket["type"], "object", "the ticket document's schema comes from the Rust type");
        let status = &json["components"]["schemas"]["TicketStatus"]["enum"];
        assert!(status.as_array().unwrap().contains(&"en_route".into()), "enums in their one spelling: {status}");
    }
}
