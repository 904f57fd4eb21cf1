//! NinjaOne Public API v2: `POST /ws/oauth/token` (also `/oauth/token`) with a form
//! `client_credentials` grant whose scope must include `monitoring`, Bearer on `/v2/*`, keyset
//! paging (`pageSize`, `after` = last id of the previous page, an empty array at the end), epoch
//! seconds as floats and the inverted `offline` flag.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde_json::{Value, json};

use super::wire::{
    BadRequest, bearer, colon_mac, form, keyset, location_id, number, query, segments,
    too_many_requests,
};
use super::{FakeDevice, Gate, Shared};

pub(super) const CLIENT_ID: &str = "ninja-cl1ent+id/=";
pub(super) const CLIENT_SECRET: &str = "s3cr+t/=x";
/// Used when the client sends no `pageSize`.
const DEFAULT_PAGE_SIZE: usize = 100;

pub(super) async fn handle(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    let path = req.path();
    if path == "/ws/oauth/token" || path == "/oauth/token" {
        return if req.method() == Method::POST {
            login(req, body, shared)
        } else {
            HttpResponse::MethodNotAllowed().finish()
        };
    }
    let Some(segments) = segments(path, "/v2/") else {
        return not_found();
    };
    match shared.gate_token(bearer(req)) {
        Gate::Pass => {}
        Gate::Denied => {
            return HttpResponse::Unauthorized().json(json!({ "error": "unauthorized" }));
        }
        Gate::Throttled => return too_many_requests(),
    }
    if req.method() != Method::GET {
        return HttpResponse::MethodNotAllowed().finish();
    }
    match segments.as_slice() {
        ["devices-detailed"] => devices(req, shared, true).await,
        ["devices"] => devices(req, shared, false).await,
        ["device", id] => {
            let device = id
                .parse::<u64>()
                .ok()
                .and_then(|id| shared.devices().into_iter().find(|d| d.id == id));
            match device {
                Some(device) => HttpResponse::Ok().json(device_json(shared, &device, true)),
                None => not_found(),
            }
        }
        ["organizations"] => organizations(req, shared, false),
        ["locations"] => organizations(req, shared, true),
        _ => not_found(),
    }
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "resultCode": "NOT_FOUND" }))
}

fn login(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return HttpResponse::BadRequest().json(json!({ "error": "invalid_request" }));
    }
    let fields = form(body, false);
    let field = |name: &str| fields.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return HttpResponse::BadRequest().json(json!({ "error": "unsupported_grant_type" }));
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return HttpResponse::Unauthorized().json(json!({ "error": "invalid_client" }));
    }
    if !field("scope").is_some_and(|scope| scope.split_whitespace().any(|s| s == "monitoring")) {
        return HttpResponse::BadRequest().json(json!({ "error": "invalid_scope" }));
    }
    HttpResponse::Ok().json(json!({
        "access_token": shared.issue_token("ninja"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "monitoring",
    }))
}

/// `pageSize` (capped at the server page size when set) and `after`.
fn paging(req: &HttpRequest, shared: &Shared) -> Result<(usize, Option<u64>), BadRequest> {
    let params = query(req, false);
    let mut size = number::<usize>(&params, "pageSize")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if size == 0 {
        return Err(BadRequest("pageSize must be at least 1".to_string()));
    }
    if shared.faults.page_size > 0 {
        size = size.min(shared.faults.page_size);
    }
    Ok((size, number::<u64>(&params, "after")?))
}

async fn devices(req: &HttpRequest, shared: &Shared, detailed: bool) -> HttpResponse {
    let (size, after) = match paging(req, shared) {
        Ok(paging) => paging,
        Err(bad) => return bad.into(),
    };
    shared.wait_while_held().await;
    let items = shared
        .devices()
        .iter()
        .map(|d| (d.id, device_json(shared, d, detailed)))
        .collect();
    HttpResponse::Ok().json(keyset(items, after, size))
}

/// Organizations (one per distinct client) or their locations (`client_id * 10`).
fn organizations(req: &HttpRequest, shared: &Shared, locations: bool) -> HttpResponse {
    let (size, after) = match paging(req, shared) {
        Ok(paging) => paging,
        Err(bad) => return bad.into(),
    };
    let clients: BTreeMap<u64, String> = shared
        .devices()
        .into_iter()
        .map(|d| (d.client_id, d.client_name))
        .collect();
    let items = clients
        .into_iter()
        .map(|(id, name)| {
            if locations {
                let location = location_id(id);
                let item = json!({
                    "id": location,
                    "name": "Main Office",
                    "address": format!("{id} Harbour Rd, Springfield"),
                    "description": "",
                    "userData": {},
                    "organizationId": id,
                });
                (location, item)
            } else {
                let item = json!({
                    "id": id,
                    "name": name,
                    "description": "",
                    "nodeApprovalMode": "AUTOMATIC",
                    "userData": {},
                });
                (id, item)
            }
        })
        .collect();
    HttpResponse::Ok().json(keyset(items, after, size))
}

fn device_json(shared: &Shared, d: &FakeDevice, detailed: bool) -> Value {
    let mut device = json!({
        "id": d.id,
        "uid": format!("6b1e2c3d-0000-4000-8000-{:012x}", d.id),
        "organizationId": d.client_id,
        "locationId": location_id(d.client_id),
        "nodeClass": "WINDOWS_WORKSTATION",
        "nodeRoleId": 3,
        "rolePolicyId": 21,
        "approvalStatus": "APPROVED",
        "offline": !d.online,
        "displayName": d.hostname,
        "systemName": shared.hostname(d),
        "dnsName": format!("{}.corp.local", d.hostname.to_ascii_lowercase()),
        "netbiosName": d.hostname,
        "created": 1_698_312_000.0,
        "lastContact": d.last_seen as f64 + 0.214,
        "lastUpdate": d.last_seen as f64 + 0.901,
        "tags": [],
    });
    if detailed {
        let extra = json!({
            "ipAddresses": [d.ip, "fe80::1"],
            "macAddresses": [colon_mac(&d.mac)],
            "publicIP": "203.0.113.58",
            "os": {
                "manufacturer": "Microsoft Corporation",
                "name": d.os,
                "architecture": "64-bit",
                "lastBootTime": d.last_seen.saturating_sub(86_400) as f64,
                "buildNumber": d.os_version,
                "releaseId": "23H2",
                "servicePackMajorVersion": 0,
                "servicePackMinorVersion": 0,
                "locale": "en-US",
                "language": "English",
                "needsReboot": false,
            },
            "system": {
                "name": d.hostname,
                "manufacturer": d.manufacturer,
                "model": d.model,
                "biosSerialNumber": d.serial,
                "serialNumber": d.serial,
                "domain": "corp.local",
                "domainRole": "MEMBER_WORKSTATION",
                "numberOfProcessors": 1,
                "totalPhysicalMemory": 17_179_869_184_u64,
                "virtualMachine": false,
                "chassisType": "DESKTOP",
            },
            "lastLoggedInUser": "CORP\\user",
        });
        if let (Some(device), Value::Object(extra)) = (device.as_object_mut(), extra) {
            device.extend(extra);
        }
    }
    device
}
