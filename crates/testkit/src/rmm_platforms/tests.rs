//! Smoke tests of the fake platforms over a bare HTTP/1.1 client.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{FakeDevice, Faults, Platform, RmmPlatform};

struct Reply {
    status: u16,
    head: String,
    body: Value,
}

async fn call(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Reply {
        status: head[9..12].parse().unwrap(),
        head: head.to_string(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn devices(count: u64) -> Vec<FakeDevice> {
    (1..=count)
        .map(|id| FakeDevice::numbered(id, if id % 2 == 0 { 20 } else { 10 }, "Acme"))
        .collect()
}

fn ids(items: &Value) -> Vec<u64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automate_needs_client_id_and_pages_case_insensitively() {
    let mut list = devices(5);
    list[0].coordinates = Some((40.5, -74.25));
    let faults = Faults {
        malformed_id: Some(2),
        ..Faults::default()
    };
    let server = RmmPlatform::start(Platform::Automate, list, faults).await;
    let base = server.base_url.clone();
    let creds = server.credentials();
    let client_id = creds["client_id"].as_str().unwrap();
    let login = json!({ "username": creds["username"], "PASSWORD": creds["password"] }).to_string();
    let json_type = ("Content-Type", "application/json");

    let r = call(&base, "POST", "/cwa/api/v1/apitoken", &[json_type], &login).await;
    assert_eq!(r.status, 401);
    let headers = [json_type, ("ClientId", client_id)];
    let r = call(&base, "POST", "/cwa/api/v1/APIToken", &headers, &login).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["TokenType"], "Bearer");
    let auth = format!("Bearer {}", r.body["AccessToken"].as_str().unwrap());

    let r = call(
        &base,
        "GET",
        "/cwa/api/v1/Computers",
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(r.status, 401, "ClientId is required on calls too");
    let headers = [("Authorization", auth.as_str()), ("ClientId", client_id)];
    let r = call(
        &base,
        "GET",
        "/CWA/Api/V1/computers?PAGE=1&pagesize=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["Id"], 1);
    assert_eq!(r.body[0]["Location"], json!({ "Id": 100, "Name": "Main" }));
    assert_eq!(r.body[1]["ComputerName"], json!({ "bad": true }));
    let r = call(
        &base,
        "GET",
        "/cwa/api/v1/Computers?page=3&pageSize=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = call(
        &base,
        "GET",
        "/cwa/api/v1/Computers?page=4&pageSize=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.body, json!([]));
    let r = call(
        &base,
        "GET",
        "/cwa/api/v1/Computers/1/ExtraDataFields",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.body[0]["Value"], "40.5,-74.25");
    let r = call(
        &base,
        "GET",
        "/cwa/api/v1/Computers/99/ExtraDataFields",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(server.logins(), 1);
    assert_eq!(server.requests()[1], "POST /cwa/api/v1/APIToken");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datto_pages_with_absolute_next_urls_and_a_deleted_device() {
    let mut list = devices(3);
    list[1].online = false;
    let faults = Faults {
        page_size: 2,
        ..Faults::default()
    };
    let server = RmmPlatform::start(Platform::Datto, list, faults).await;
    let base = server.base_url.clone();
    let creds = server.credentials();
    let form = format!(
        "grant_type=password&username={}&password={}",
        encode(creds["api_key"].as_str().unwrap()),
        encode(creds["api_secret"].as_str().unwrap())
    );
    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    let basic = ("Authorization", "Basic cHVibGljLWNsaWVudDpwdWJsaWM=");
    let r = call(&base, "POST", "/auth/oauth/token", &[form_type], &form).await;
    assert_eq!(r.status, 401);
    let wrong = "grant_type=password&username=a&password=b";
    let r = call(
        &base,
        "POST",
        "/auth/oauth/token",
        &[form_type, basic],
        wrong,
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (401, Some("invalid_grant"))
    );
    let r = call(
        &base,
        "POST",
        "/auth/oauth/token",
        &[form_type, basic],
        &form,
    )
    .await;
    assert_eq!(r.status, 200);
    let auth = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
    let headers = [("Authorization", auth.as_str())];

    let r = call(
        &base,
        "GET",
        "/api/v2/account/devices?page=0&max=100",
        &headers,
        "",
    )
    .await;
    assert_eq!(ids(&r.body["devices"]), [1, 2]);
    assert_eq!(r.body["pageDetails"]["totalCount"], 4);
    let next = r.body["pageDetails"]["nextPageUrl"].as_str().unwrap();
    assert_eq!(next, format!("{base}/api/v2/account/devices?max=2&page=1"));
    let r = call(
        &base,
        "GET",
        next.strip_prefix(&base).unwrap(),
        &headers,
        "",
    )
    .await;
    assert_eq!(ids(&r.body["devices"]), [3, 999_999]);
    assert_eq!(r.body["devices"][1]["deleted"], true);
    assert_eq!(r.body["pageDetails"]["nextPageUrl"], Value::Null);

    let r = call(&base, "GET", "/api/v2/audit/device/dev-uid-1", &headers, "").await;
    assert_eq!(r.body["bios"]["serialNumber"], "SN00000001");
    assert_eq!(r.body["nics"][0]["macAddress"], "02:00:00:00:00:01");
    let r = call(&base, "GET", "/api/v2/audit/device/nope", &headers, "").await;
    assert_eq!(r.status, 404);
    let r = call(
        &base,
        "GET",
        "/api/v2/account/alerts/open?page=0",
        &headers,
        "",
    )
    .await;
    let alerts = r.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0]["alertSourceInfo"]["deviceUid"], "dev-uid-2");
    assert_eq!(alerts[1]["alertContext"]["@class"], "brand_new_monitor_ctx");
    let r = call(&base, "GET", "/api/v2/account/devices", &[], "").await;
    assert_eq!(r.status, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninjaone_keyset_pages_expiry_and_rate_limit() {
    let faults = Faults {
        token_expires_after: Some(2),
        rate_limit_at: Some(3),
        ..Faults::default()
    };
    let server = RmmPlatform::start(Platform::NinjaOne, devices(3), faults).await;
    let base = server.base_url.clone();
    let creds = server.credentials();
    let form = |scope: &str| {
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={scope}",
            encode(creds["client_id"].as_str().unwrap()),
            encode(creds["client_secret"].as_str().unwrap())
        )
    };
    let form_type = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = call(
        &base,
        "POST",
        "/ws/oauth/token",
        &form_type,
        &form("management"),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let r = call(
        &base,
        "POST",
        "/ws/oauth/token",
        &form_type,
        &form("monitoring%20management"),
    )
    .await;
    assert_eq!(r.status, 200);
    let first = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
    let headers = [("Authorization", first.as_str())];

    let r = call(
        &base,
        "GET",
        "/v2/devices-detailed?pageSize=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(ids(&r.body), [1, 2]);
    assert_eq!(r.body[0]["offline"], false);
    assert!(r.body[0]["lastContact"].as_f64().unwrap().fract() > 0.0);
    assert_eq!(r.body[0]["system"]["serialNumber"], "SN00000001");
    let r = call(&base, "GET", "/v2/organizations", &headers, "").await;
    assert_eq!(ids(&r.body), [10, 20]);
    let r = call(
        &base,
        "GET",
        "/v2/devices-detailed?pageSize=2&after=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.status, 401, "the first token has expired");

    let r = call(
        &base,
        "POST",
        "/oauth/token",
        &form_type,
        &form("monitoring"),
    )
    .await;
    let second = format!("Bearer {}", r.body["access_token"].as_str().unwrap());
    let headers = [("Authorization", second.as_str())];
    let r = call(
        &base,
        "GET",
        "/v2/devices-detailed?pageSize=2&after=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.status, 429);
    assert!(r.head.to_ascii_lowercase().contains("retry-after: 1"));
    let r = call(
        &base,
        "GET",
        "/v2/devices-detailed?pageSize=2&after=2",
        &headers,
        "",
    )
    .await;
    assert_eq!(ids(&r.body), [3]);
    let r = call(
        &base,
        "GET",
        "/v2/devices-detailed?pageSize=2&after=3",
        &headers,
        "",
    )
    .await;
    assert_eq!(r.body, json!([]));
    let r = call(&base, "GET", "/v2/locations", &headers, "").await;
    assert_eq!(ids(&r.body), [100, 200]);
    assert_eq!((server.logins(), server.rate_limited()), (2, 1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncro_accepts_three_token_forms_and_holds_lists() {
    let mut list = devices(3);
    list[2].online = false;
    list[0].coordinates = Some((39.799, -89.644));
    let faults = Faults {
        page_size: 2,
        ..Faults::default()
    };
    let server = RmmPlatform::start(Platform::Syncro, list, faults).await;
    let base = server.base_url.clone();
    let key = server.credentials()["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!("Bearer {key}");

    let r = call(
        &base,
        "GET",
        "/api/v1/customer_assets",
        &[("Authorization", "nope")],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    let r = call(
        &base,
        "GET",
        "/api/v1/customer_assets?page=1",
        &[("Authorization", &key)],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(&r.body["assets"]), [1, 2]);
    assert_eq!(
        r.body["meta"],
        json!({ "total_pages": 2, "total_entries": 3, "per_page": 2, "page": 1 })
    );
    assert_eq!(r.body["assets"][0]["address"]["latitude"], 39.799);
    assert_eq!(r.body["assets"][1]["address"], Value::Null);
    let target = format!("/api/v1/customer_assets?page=2&api_key={}", encode(&key));
    let r = call(&base, "GET", &target, &[], "").await;
    assert_eq!(ids(&r.body["assets"]), [3]);
    let synced = r.body["assets"][0]["properties"]["kabuto_information"]["last_synced_at"]
        .as_str()
        .unwrap();
    assert!(synced.ends_with("-06:00"), "{synced}");
    let r = call(
        &base,
        "GET",
        "/api/v1/customer_assets?page=3",
        &[("Authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(r.body["assets"], json!([]));

    server.hold(true);
    let held = tokio::spawn({
        let base = base.clone();
        async move {
            call(
                &base,
                "GET",
                "/api/v1/customer_assets",
                &[("Authorization", &bearer)],
                "",
            )
            .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!held.is_finished());
    server.hold(false);
    assert_eq!(held.await.unwrap().status, 200);
    assert_eq!(server.logins(), 0);
    server.stop().await;
}
