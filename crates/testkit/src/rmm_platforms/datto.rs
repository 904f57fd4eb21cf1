//! Datto RMM API v2: `POST /auth/oauth/token` (Basic `public-client:public`, form password
//! grant), Bearer on `/api/v2/*`, 0-based `page` with `max`, `pageDetails` with an absolute
//! `nextPageUrl` on the server's own base, epoch-ms dates, a `deleted: true` device on the last
//! devices page, device detail from the audit route, and open alerts including an unknown
//! `@class`.

use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::wire::{
    BadRequest, bearer, colon_mac, form, number, query, segments, slice, too_many_requests,
};
use super::{FakeDevice, Gate, Shared};

pub(super) const API_KEY: &str = "K3Y+datto/=1";
pub(super) const API_SECRET: &str = "s3cr+t/=x";
const PUBLIC_CLIENT: &str = "public-client:public";
const DEFAULT_MAX: usize = 250;
/// The extra `deleted: true` device served on the last devices page.
const DELETED_ID: u64 = 999_999;

/// The device uid the server gives device `id`.
pub(super) fn uid(id: u64) -> String {
    format!("dev-uid-{id}")
}

pub(super) async fn handle(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    let path = req.path();
    if path == "/auth/oauth/token" {
        return if req.method() == Method::POST {
            login(req, body, shared)
        } else {
            HttpResponse::MethodNotAllowed().finish()
        };
    }
    let Some(segments) = segments(path, "/api/v2/") else {
        return not_found();
    };
    match shared.gate_token(bearer(req)) {
        Gate::Pass => {}
        Gate::Denied => {
            return HttpResponse::Unauthorized().json(json!({
                "error": "invalid_token",
                "error_description": "Access token expired or invalid",
            }));
        }
        Gate::Throttled => return too_many_requests(),
    }
    if req.method() != Method::GET {
        return HttpResponse::MethodNotAllowed().finish();
    }
    match segments.as_slice() {
        ["account", "devices"] => devices(req, shared).await,
        ["account", "alerts", "open"] => alerts(req, shared),
        ["audit", "device", uid] => match find(shared, |d| self::uid(d.id) == *uid) {
            Some(device) => HttpResponse::Ok().json(audit(shared, &device)),
            None => not_found(),
        },
        ["device", "id", id] => match find(shared, |d| d.id.to_string() == *id) {
            Some(device) => HttpResponse::Ok().json(device_json(shared, &device, false)),
            None => not_found(),
        },
        ["device", uid] => match find(shared, |d| self::uid(d.id) == *uid) {
            Some(device) => HttpResponse::Ok().json(device_json(shared, &device, false)),
            None => not_found(),
        },
        ["system", "pagination"] => HttpResponse::Ok().json(json!({ "max": cap(shared) })),
        _ => not_found(),
    }
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "code": 404, "message": "Not found" }))
}

fn login(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok());
    if basic.as_deref() != Some(PUBLIC_CLIENT.as_bytes()) {
        return HttpResponse::Unauthorized().json(json!({
            "error": "unauthorized",
            "error_description": "Full authentication is required to access this resource",
        }));
    }
    if req.content_type() != "application/x-www-form-urlencoded" {
        return HttpResponse::BadRequest().json(json!({
            "error": "invalid_request",
            "error_description": "Content-Type must be application/x-www-form-urlencoded",
        }));
    }
    let fields = form(body, false);
    let field = |name: &str| fields.get(name).map(String::as_str);
    if field("grant_type") != Some("password") {
        return HttpResponse::BadRequest().json(json!({ "error": "unsupported_grant_type" }));
    }
    if field("username") != Some(API_KEY) || field("password") != Some(API_SECRET) {
        return HttpResponse::Unauthorized()
            .json(json!({ "error": "invalid_grant", "error_description": "Bad credentials" }));
    }
    HttpResponse::Ok().json(json!({
        "access_token": shared.issue_token("datto"),
        "token_type": "bearer",
        "expires_in": 359_999,
        "scope": "default",
        "jti": uuid::Uuid::new_v4().to_string(),
    }))
}

fn cap(shared: &Shared) -> usize {
    match shared.faults.page_size {
        0 => DEFAULT_MAX,
        size => size,
    }
}

/// `page` (0-based, default 0) and `max` (default and cap: the server page size).
fn paging(req: &HttpRequest, shared: &Shared) -> Result<(usize, usize), BadRequest> {
    let params = query(req, false);
    let page = number::<usize>(&params, "page")?.unwrap_or(0);
    let cap = cap(shared);
    let max = number::<usize>(&params, "max")?
        .filter(|max| *max > 0)
        .unwrap_or(cap)
        .min(cap);
    Ok((page, max))
}

/// `{"pageDetails": {...}, key: [...]}` for page `page` of `items`; the page URLs are absolute
/// on the server's base and carry only `max` and `page`.
fn page_of(
    shared: &Shared,
    route: &str,
    key: &str,
    items: &[Value],
    page: usize,
    max: usize,
) -> Value {
    let base = shared.base_url();
    let url = |page: usize| format!("{base}{route}?max={max}&page={page}");
    let slice = slice(items, page, max);
    let next = (page.saturating_add(1).saturating_mul(max) < items.len()).then(|| url(page + 1));
    let prev = (page > 0).then(|| url(page - 1));
    json!({
        "pageDetails": {
            "count": slice.len(),
            "totalCount": items.len(),
            "prevPageUrl": prev,
            "nextPageUrl": next,
        },
        key: slice,
    })
}

async fn devices(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    let (page, max) = match paging(req, shared) {
        Ok(paging) => paging,
        Err(bad) => return bad.into(),
    };
    shared.wait_while_held().await;
    let devices = shared.devices();
    let mut items: Vec<Value> = devices
        .iter()
        .map(|device| device_json(shared, device, false))
        .collect();
    if !devices.iter().any(|d| d.id == DELETED_ID) {
        let (client_id, client_name) = devices.first().map_or((1, "Client 1".to_string()), |d| {
            (d.client_id, d.client_name.clone())
        });
        let mut gone = FakeDevice::numbered(DELETED_ID, client_id, &client_name);
        gone.hostname = "DELETED-PC".to_string();
        gone.online = false;
        gone.last_seen -= 30 * 86_400;
        items.push(device_json(shared, &gone, true));
    }
    HttpResponse::Ok().json(page_of(
        shared,
        "/api/v2/account/devices",
        "devices",
        &items,
        page,
        max,
    ))
}

fn find(shared: &Shared, matches: impl Fn(&FakeDevice) -> bool) -> Option<FakeDevice> {
    shared.devices().into_iter().find(|d| matches(d))
}

/// `lastAuditDate`: stable per device (epoch ms).
fn audit_stamp(id: u64) -> u64 {
    1_731_920_000_000_u64.saturating_add(id.saturating_mul(1000))
}

fn device_json(shared: &Shared, d: &FakeDevice, deleted: bool) -> Value {
    let base = shared.base_url();
    let udf: Map<String, Value> = (1..=30).map(|n| (format!("udf{n}"), Value::Null)).collect();
    json!({
        "id": d.id,
        "uid": uid(d.id),
        "siteId": d.client_id,
        "siteUid": format!("site-{}", d.client_id),
        "siteName": d.client_name,
        "deviceType": { "category": "Desktop", "type": "Desktop" },
        "hostname": shared.hostname(d),
        "intIpAddress": d.ip,
        "extIpAddress": "198.51.100.23",
        "operatingSystem": format!("{} {}", d.os, d.os_version),
        "lastLoggedInUser": "CORP\\user",
        "domain": "CORP",
        "cagVersion": "4.4.2215.2215",
        "displayVersion": "4.4.2215.2215",
        "description": "",
        "a64Bit": true,
        "rebootRequired": false,
        "online": d.online,
        "suspended": false,
        "deleted": deleted,
        "lastSeen": d.last_seen.saturating_mul(1000),
        "lastReboot": d.last_seen.saturating_sub(86_400).saturating_mul(1000),
        "lastAuditDate": audit_stamp(d.id),
        "creationDate": 1_689_170_000_000_u64.saturating_add(d.id),
        "udf": udf,
        "snmpEnabled": false,
        "deviceClass": "device",
        "portalUrl": format!("{base}/csm/search?dev={}", d.id),
        "warrantyDate": null,
        "antivirus": {
            "antivirusProduct": "Windows Defender",
            "antivirusStatus": "RunningAndUpToDate",
        },
        "patchManagement": {
            "patchStatus": "FullyPatched",
            "patchesApprovedPending": 0,
            "patchesNotApproved": 0,
            "patchesInstalled": 311,
        },
        "softwareStatus": "Compliant",
        "webRemoteUrl": format!("{base}/csm/remote/rto/{}", d.id),
        "networkProbe": false,
        "onboardedViaNetworkMonitor": false,
    })
}

fn audit(shared: &Shared, d: &FakeDevice) -> Value {
    json!({
        "portalUrl": format!("{}/csm/search?dev={}", shared.base_url(), d.id),
        "systemInfo": {
            "manufacturer": d.manufacturer,
            "model": d.model,
            "totalPhysicalMemory": 17_179_869_184_u64,
            "username": "CORP\\user",
            "dotNetVersion": "4.8.09032",
            "totalCpuCores": 8,
        },
        "bios": {
            "instance": "BIOS 1.0",
            "releaseDate": 1_706_745_600_000_u64,
            "serialNumber": d.serial,
            "smBiosVersion": "3.2",
        },
        "baseBoard": { "manufacturer": d.manufacturer, "product": d.model },
        "nics": [{
            "instance": "Intel(R) Ethernet Connection (11) I219-LM",
            "ipv4": d.ip,
            "ipv6": "fe80::1",
            "macAddress": colon_mac(&d.mac),
            "type": "Ethernet",
        }],
    })
}

/// One `online_offline_status_ctx` alert per offline device, then one alert of an unknown
/// `@class` for the first device.
fn alerts(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    let (page, max) = match paging(req, shared) {
        Ok(paging) => paging,
        Err(bad) => return bad.into(),
    };
    let devices = shared.devices();
    let mut items: Vec<Value> = devices
        .iter()
        .filter(|d| !d.online)
        .map(|d| {
            alert(
                d,
                format!("alert-{}", d.id),
                "High",
                "Device has been offline",
                d.last_seen.saturating_mul(1000),
                json!({ "@class": "online_offline_status_ctx", "status": "OFFLINE" }),
            )
        })
        .collect();
    if let Some(first) = devices.first() {
        items.push(alert(
            first,
            format!("alert-new-{}", first.id),
            "Moderate",
            "A monitor of a kind this client does not know fired",
            Utc::now().timestamp_millis(),
            json!({ "@class": "brand_new_monitor_ctx", "threshold": 90, "reasons": ["new"] }),
        ));
    }
    HttpResponse::Ok().json(page_of(
        shared,
        "/api/v2/account/alerts/open",
        "alerts",
        &items,
        page,
        max,
    ))
}

fn alert(
    d: &FakeDevice,
    alert_uid: String,
    priority: &str,
    diagnostics: &str,
    timestamp: i64,
    context: Value,
) -> Value {
    json!({
        "alertUid": alert_uid,
        "priority": priority,
        "diagnostics": diagnostics,
        "resolved": false,
        "resolvedBy": null,
        "resolvedOn": null,
        "muted": false,
        "ticketNumber": null,
        "timestamp": timestamp,
        "alertMonitorInfo": { "sendsEmails": true, "createsTicket": false },
        "alertContext": context,
        "alertSourceInfo": {
            "deviceUid": uid(d.id),
            "deviceName": d.hostname,
            "siteUid": format!("site-{}", d.client_id),
            "siteName": d.client_name,
        },
        "responseActions": [],
        "autoresolveMins": 0,
    })
}
