//! Syncro (`/api/v1`): a static API token sent as `Authorization: {token}`, `Authorization:
//! Bearer {token}` or `?api_key=`; `{assets, meta}` pages with a 1-based `page` and a
//! server-chosen page size; ISO timestamps with the account's offset (-06:00).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::wire::{
    BadRequest, bearer, iso_local, number, query, segments, slice, too_many_requests,
};
use super::{FakeDevice, Gate, Shared};

pub(super) const API_KEY: &str = "T0k3n+syncro/=x";
const DEFAULT_PER_PAGE: usize = 25;

pub(super) async fn handle(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    let Some(segments) = segments(req.path(), "/api/v1/") else {
        return not_found();
    };
    match shared.gate_static(authorised(req)) {
        Gate::Pass => {}
        Gate::Denied => {
            return HttpResponse::Unauthorized().json(json!({ "error": "Not authorized" }));
        }
        Gate::Throttled => return too_many_requests(),
    }
    if req.method() != Method::GET {
        return HttpResponse::MethodNotAllowed().finish();
    }
    match segments.as_slice() {
        ["customer_assets"] => assets(req, shared).await,
        ["customer_assets", id] => {
            let device = id
                .parse::<u64>()
                .ok()
                .and_then(|id| shared.devices().into_iter().find(|d| d.id == id));
            match device {
                Some(device) => {
                    HttpResponse::Ok().json(json!({ "asset": asset(shared, &device, Utc::now()) }))
                }
                None => not_found(),
            }
        }
        ["customers"] => customers(req, shared),
        _ => not_found(),
    }
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "Not found" }))
}

/// The token as a raw or Bearer `Authorization` header, or as `api_key`.
fn authorised(req: &HttpRequest) -> bool {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    header == Some(API_KEY)
        || bearer(req) == Some(API_KEY)
        || query(req, false).get("api_key").map(String::as_str) == Some(API_KEY)
}

/// The 1-based `page` and the server's page size.
fn paging(req: &HttpRequest, shared: &Shared) -> Result<(usize, usize), BadRequest> {
    let page = number::<usize>(&query(req, false), "page")?.unwrap_or(1);
    if page == 0 {
        return Err(BadRequest("page starts at 1".to_string()));
    }
    let per_page = match shared.faults.page_size {
        0 => DEFAULT_PER_PAGE,
        size => size,
    };
    Ok((page, per_page))
}

fn meta(total: usize, per_page: usize, page: usize) -> Value {
    json!({
        "total_pages": total.div_ceil(per_page),
        "total_entries": total,
        "per_page": per_page,
        "page": page,
    })
}

async fn assets(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    let (page, per_page) = match paging(req, shared) {
        Ok(paging) => paging,
        Err(bad) => return bad.into(),
    };
    shared.wait_while_held().await;
    let devices = shared.devices();
    let now = Utc::now();
    let assets: Vec<Value> = slice(&devices, page - 1, per_page)
        .iter()
        .map(|d| asset(shared, d, now))
        .collect();
    HttpResponse::Ok().json(json!({
        "assets": assets,
        "meta": meta(devices.len(), per_page, page),
    }))
}

fn customers(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    let (page, per_page) = match paging(req, shared) {
        Ok(paging) => paging,
        Err(bad) => return bad.into(),
    };
    let mut devices = shared.devices();
    devices.sort_by_key(|d| d.client_id);
    devices.dedup_by_key(|d| d.client_id);
    let customers: Vec<Value> = slice(&devices, page - 1, per_page)
        .iter()
        .map(customer)
        .collect();
    HttpResponse::Ok().json(json!({
        "customers": customers,
        "meta": meta(devices.len(), per_page, page),
    }))
}

/// The device's customer; no coordinates on the customer, so only the asset's `address`
/// carries GPS.
fn customer(d: &FakeDevice) -> Value {
    json!({
        "id": d.client_id,
        "business_name": d.client_name,
        "firstname": "Dana",
        "lastname": "Ortiz",
        "fullname": "Dana Ortiz",
        "email": format!("office{}@customer.example", d.client_id),
        "phone": "555-0142",
        "address": "12 Harbour Rd",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "latitude": null,
        "longitude": null,
    })
}

/// `last_synced_at` is now for online devices and two days ago for offline ones.
fn asset(shared: &Shared, d: &FakeDevice, now: DateTime<Utc>) -> Value {
    let synced = if d.online {
        now
    } else {
        now - Duration::days(2)
    };
    let address = d.coordinates.map(|(latitude, longitude)| {
        json!({
            "id": d.client_id,
            "name": "Main",
            "customer_id": d.client_id,
            "address1": "12 Harbour Rd",
            "address2": "",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "latitude": latitude,
            "longitude": longitude,
        })
    });
    json!({
        "id": d.id,
        "name": shared.hostname(d),
        "customer_id": d.client_id,
        "contact_id": null,
        "created_at": "2023-03-14T09:12:44.512-06:00",
        "updated_at": iso_local(now),
        "asset_type": "Syncro Device",
        "asset_serial": d.serial,
        "external_rmm_link": null,
        "rmm_links": [],
        "has_live_chat": true,
        "snmp_enabled": false,
        "address": address,
        "properties": {
            "kabuto_live_uuid": format!("e4b1c2d3-0000-4e8d-b7c6-{:012x}", d.id),
            "kabuto_information": {
                "general": {
                    "manufacturer": d.manufacturer,
                    "model": d.model,
                    "serial_number": d.serial,
                    "form_factor": "Desktop",
                    "domain": "WORKGROUP",
                    "ip": "203.0.113.77",
                },
                "os": {
                    "name": d.os,
                    "build": d.os_version,
                    "windows_release_version": "23H2",
                    "os_architecture": "64-bit",
                    "pending_reboot": false,
                },
                "network_adapters": [{
                    "name": "Ethernet",
                    "description": "Intel(R) Ethernet Connection (11) I219-LM",
                    "type": "ethernet",
                    "ipv4": d.ip,
                    "ipv6": "fe80::a1b2:c3d4:e5f6:718%7",
                    "subnet": "255.255.255.0",
                    "gateway": "192.168.10.1",
                    "dns1": "192.168.10.1",
                    "dns2": "",
                    "dhcp_server": "192.168.10.1",
                    "dhcp_enabled": true,
                    "physical_address": d.mac,
                }],
                "last_synced_at": iso_local(synced),
                "last_user": format!("{}\\user", d.hostname),
            },
            "Service Tag": d.serial,
        },
        "customer": customer(d),
        "rmm_store": {
            "id": d.id,
            "asset_id": d.id,
            "triggers": { "agent_offline_triggered": !d.online, "low_hd_space_triggered": false },
        },
    })
}
