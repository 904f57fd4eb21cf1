//! ConnectWise Automate (`/cwa/api/v1`): `ClientId` header on every call, `POST apitoken` with a
//! JSON body whose keys match case-insensitively, Bearer tokens, case-insensitive route segments
//! and parameter names, bare-array pages (1-based `page`, `pageSize`).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{Value, json};

use super::wire::{
    bearer, iso_utc, location_id, number, query, segments, slice, too_many_requests,
};
use super::{FakeDevice, Gate, Shared};

pub(super) const USERNAME: &str = "svc-rmmsync";
pub(super) const PASSWORD: &str = "s3cr+t/=x";
pub(super) const CLIENT_ID: &str = "8d3c2f1e-5a7b-4c9d-9e0f-1a2b3c4d5e6f";
/// Used when the client sends no `pageSize` (the real default is small and undocumented).
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 1000;

pub(super) async fn handle(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    let path = req.path().to_ascii_lowercase();
    let Some(segments) = segments(&path, "/cwa/api/v1") else {
        return not_found();
    };
    let post = req.method() == Method::POST;
    match segments.as_slice() {
        ["apitoken"] if post => return login(req, body, shared),
        ["apitoken", "refresh"] if post => return refresh(req, body, shared),
        _ => {}
    }
    if !has_client_id(req) {
        return unauthorized();
    }
    match shared.gate_token(bearer(req)) {
        Gate::Pass => {}
        Gate::Denied => return unauthorized(),
        Gate::Throttled => return too_many_requests(),
    }
    if req.method() != Method::GET {
        return HttpResponse::MethodNotAllowed().finish();
    }
    match segments.as_slice() {
        ["computers"] => computers(req, shared).await,
        ["computers", id] => match find(shared, id) {
            Some(device) => HttpResponse::Ok().json(computer(shared, &device)),
            None => not_found(),
        },
        ["computers", id, "extradatafields"] => match find(shared, id) {
            Some(device) => HttpResponse::Ok().json(extra_data_fields(&device)),
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn has_client_id(req: &HttpRequest) -> bool {
    req.headers()
        .get("clientid")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == CLIENT_ID)
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(json!({ "Message": "Authorization has been denied for this request." }))
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "Message": "Not found" }))
}

fn login(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    if !has_client_id(req) {
        return HttpResponse::Unauthorized()
            .json(json!({ "Message": "A valid ClientId header is required." }));
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return HttpResponse::BadRequest().json(json!({ "Message": "The request is invalid." }));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
    };
    if field("UserName") != Some(USERNAME) || field("Password") != Some(PASSWORD) {
        return HttpResponse::Unauthorized()
            .json(json!({ "Message": "Username or password is incorrect." }));
    }
    token_result(&shared.issue_token("cwa"))
}

/// `POST apitoken/refresh`: the body is the current token as a JSON string literal.
fn refresh(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    let current = serde_json::from_slice::<String>(body).unwrap_or_default();
    if !has_client_id(req) || !shared.token_valid(&current) {
        return unauthorized();
    }
    token_result(&shared.issue_token("cwa"))
}

fn token_result(token: &str) -> HttpResponse {
    let now = Utc::now().timestamp();
    HttpResponse::Ok().json(json!({
        "AccessToken": token,
        "TokenType": "Bearer",
        "ExpirationDate": iso_utc(now + 3600),
        "AbsoluteExpirationDate": iso_utc(now + 86_400),
        "UserId": "118",
        "InternalUserName": USERNAME,
        "IsTwoFactorRequired": false,
        "IsInternalTwoFactorRequired": false,
    }))
}

/// `GET Computers?page=&pageSize=`: a bare array; a page past the end is `[]`.
async fn computers(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    let params = query(req, true);
    let (page, size) = match (
        number::<usize>(&params, "page"),
        number::<usize>(&params, "pagesize"),
    ) {
        (Ok(page), Ok(size)) => (page.unwrap_or(1), size.unwrap_or(DEFAULT_PAGE_SIZE)),
        (Err(bad), _) | (_, Err(bad)) => return bad.into(),
    };
    if page == 0 || size == 0 {
        return HttpResponse::BadRequest()
            .json(json!({ "Message": "page and pageSize start at 1." }));
    }
    let mut size = size.min(MAX_PAGE_SIZE);
    if shared.faults.page_size > 0 {
        size = size.min(shared.faults.page_size);
    }
    shared.wait_while_held().await;
    let page: Vec<Value> = slice(&shared.devices(), page - 1, size)
        .iter()
        .map(|device| computer(shared, device))
        .collect();
    HttpResponse::Ok().json(page)
}

fn find(shared: &Shared, id: &str) -> Option<FakeDevice> {
    let id: u64 = id.parse().ok()?;
    shared.devices().into_iter().find(|d| d.id == id)
}

fn computer(shared: &Shared, d: &FakeDevice) -> Value {
    let last_contact = iso_utc(d.last_seen);
    json!({
        "Id": d.id,
        "ComputerName": shared.hostname(d),
        "Client": { "Id": d.client_id, "Name": d.client_name },
        "Location": { "Id": location_id(d.client_id), "Name": "Main" },
        "Type": "Workstation",
        "Status": if d.online { "Online" } else { "Offline" },
        "OperatingSystemName": d.os,
        "OperatingSystemVersion": d.os_version,
        "SerialNumber": d.serial,
        "BiosManufacturer": d.manufacturer,
        "BiosFlash": "1.0",
        "LocalIPAddress": d.ip,
        "MACAddress": d.mac,
        "DomainName": "CORP",
        "LastUserName": "CORP\\user",
        "RemoteAgentLastContact": last_contact,
        "LastHeartbeat": last_contact,
        "DateAdded": "2021-02-09T16:22:10Z",
        "RemoteAgentVersion": "2024.3.112.0",
        "IsVirtualMachine": false,
        "IsRebootNeeded": false,
    })
}

/// GPS as `"lat,long"` when the device has coordinates; otherwise, for even ids an empty GPS
/// value and for odd ids no GPS field (both mean "no coordinates").
fn extra_data_fields(d: &FakeDevice) -> Value {
    let backup = json!({ "Id": 2, "Title": "Backup Plan", "Value": "Gold" });
    match d.coordinates {
        Some((lat, long)) => {
            json!([{ "Id": 1, "Title": "GPS", "Value": format!("{lat},{long}") }, backup])
        }
        None if d.id.is_multiple_of(2) => json!([{ "Id": 1, "Title": "GPS", "Value": "" }, backup]),
        None => json!([backup]),
    }
}
