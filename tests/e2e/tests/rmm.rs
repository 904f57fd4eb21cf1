//! RMM sync through the gateway, against local servers speaking each platform's documented
//! format (several pages, a token that stops working mid-run, one 429 with Retry-After, one
//! malformed device).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clientstor_e2e::Stack;
use clientstor_testkit::poll_until;
use clientstor_testkit::rmm_platforms::{FakeDevice, Faults, Platform, RmmPlatform};
use serde_json::{Value, json};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn provider(platform: Platform) -> &'static str {
    match platform {
        Platform::Automate => "connectwise_automate",
        Platform::Datto => "datto_rmm",
        Platform::NinjaOne => "ninjaone",
        Platform::Syncro => "syncro",
    }
}

/// Creates an integration for `server` (disabled: runs only when asked) and returns its id.
async fn integration(
    stack: &Stack,
    key: &str,
    platform: Platform,
    server: &RmmPlatform,
    extra: Value,
) -> i64 {
    let mut request = json!({
        "name": format!("{} test", provider(platform)),
        "provider": provider(platform),
        "base_url": server.base_url,
        "credentials": server.credentials(),
        "enabled": false,
    });
    if platform == Platform::Automate {
        request["gps_extra_data_field"] = json!("GPS");
    }
    for (k, v) in extra.as_object().unwrap() {
        request[k] = v.clone();
    }
    let created = stack
        .post_as(key, "/api/v1/integrations/rmm/", request)
        .await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert!(created.get("credentials").is_none(), "{created}");
    created["id"].as_i64().unwrap()
}

/// Starts a sync and waits for it to finish; returns the run.
async fn sync(stack: &Stack, id: i64) -> Value {
    let started = stack
        .post(&format!("/api/v1/integrations/rmm/{id}/sync/"), json!({}))
        .await;
    assert_eq!(started.status(), 202);
    let run = body(started).await;
    let run_id = run["id"].as_i64().unwrap();
    poll_until(
        "the run to finish",
        Duration::from_secs(60),
        || async move {
            let run = body(
                stack
                    .get(&format!("/api/v1/integrations/rmm/{id}/runs/{run_id}/"))
                    .await,
            )
            .await;
            run["finished_at"].is_string().then_some(run)
        },
    )
    .await
}

/// The assets linked to devices of integration `id`, once there are `n`.
async fn linked_assets(stack: &Stack, key: &str, id: i64, n: usize) -> Vec<Value> {
    poll_until(
        "assets of the integration",
        Duration::from_secs(30),
        || async move {
            let page = body(stack.get_as(key, "/api/v1/assets/?page_size=200").await).await;
            let linked: Vec<Value> = page["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["source"]["integration"].as_i64() == Some(id))
                .cloned()
                .collect();
            (linked.len() == n).then_some(linked)
        },
    )
    .await
}

fn asset_of<'a>(assets: &'a [Value], external_id: &str) -> &'a Value {
    assets
        .iter()
        .find(|a| a["source"]["external_id"] == external_id)
        .unwrap_or_else(|| panic!("no asset for device {external_id}"))
}

async fn platform_sync(platform: Platform) {
    // Pages of three, as the test servers serve them.
    let stack = Stack::start_with(&[("rmm.page_size", "3")]).await;
    let mut devices: Vec<FakeDevice> = (1..=7)
        .map(|i| {
            if i <= 4 {
                FakeDevice::numbered(i, 12, "Acme Manufacturing")
            } else {
                FakeDevice::numbered(i, 13, "Beta Dental")
            }
        })
        .collect();
    devices[1].coordinates = Some((39.799, -89.644));
    devices[2].online = false;
    let faults = Faults {
        page_size: 3,
        token_expires_after: Some(2),
        rate_limit_at: Some(3),
        malformed_id: Some(5),
    };
    let server = RmmPlatform::start(platform, devices.clone(), faults).await;
    // Client 13 goes to a child organization, through a key that reaches both.
    clientstor_e2e::admin(
        &stack.gateway,
        &[
            "org",
            "create",
            "--name",
            "Beta Dental",
            "--parent",
            "acme-corp",
        ],
    )
    .await;
    let beta = stack
        .count("SELECT id AS n FROM gateway.organizations WHERE slug = 'beta-dental'")
        .await
        .unwrap();
    let key = stack
        .key_for("owner@acme.test", "acme-corp", &["--scope", "descendants"])
        .await;
    // The platform's own id of the client: Datto names sites by uid.
    let client = if platform == Platform::Datto {
        "site-13"
    } else {
        "13"
    };
    let mapping =
        json!({"organization_mapping": {"mode": "by_external_id", "map": {client: beta}}});
    let id = integration(&stack, &key, platform, &server, mapping).await;

    let run = sync(&stack, id).await;
    let malformed = devices[4].external_id(platform);
    assert_eq!(run["status"], "partially_failed", "{run}");
    let errors = run["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "only the malformed device fails: {run}");
    assert_eq!(errors[0]["external_id"], malformed.as_str(), "{run}");
    assert!(errors[0]["reason"].as_str().unwrap().len() > 5, "{run}");
    assert!(run["pages_fetched"].as_i64().unwrap() >= 3, "{run}");
    assert_eq!(run["devices_seen"], 7, "{run}");
    assert_eq!(run["created"], 6, "{run}");
    assert_eq!(run["updated"], 0, "{run}");
    assert_eq!(run["retired"], 0, "{run}");
    assert_eq!(server.rate_limited(), 1, "the 429 was waited out");
    if platform != Platform::Syncro {
        assert!(
            server.logins() >= 2,
            "the expired token was replaced mid-run"
        );
    }

    let assets = linked_assets(&stack, &key, id, 6).await;
    for device in devices.iter().filter(|d| d.id != 5) {
        let asset = asset_of(&assets, &device.external_id(platform));
        let org = if device.client_id == 13 {
            beta
        } else {
            stack.org_id
        };
        assert_eq!(asset["organization"], org, "{asset}");
        assert_eq!(asset["name"], device.hostname.as_str());
        assert_eq!(asset["hostname"], device.hostname.as_str());
        assert_eq!(asset["serial_number"], device.serial.as_str(), "{asset}");
        assert_eq!(asset["manufacturer"], "Dell Inc.", "{asset}");
        if platform != Platform::Automate {
            assert_eq!(asset["model"], "OptiPlex 7090", "{asset}");
        }
        assert!(
            asset["os_name"].as_str().unwrap().contains("Windows 11"),
            "{asset}"
        );
        assert_eq!(asset["ip_address"], device.ip.as_str(), "{asset}");
        assert_eq!(
            asset["mac_address"],
            device.mac.replace('-', ":").to_lowercase().as_str(),
            "{asset}"
        );
        assert_eq!(asset["status"], "active");
        assert_eq!(asset["source"]["provider"], provider(platform));
        assert_eq!(asset["source"]["online"], device.online, "{asset}");
        assert_ne!(
            [
                "server",
                "workstation",
                "laptop",
                "desktop",
                "virtual_machine",
                "other"
            ]
            .iter()
            .position(|t| asset["asset_type"] == *t),
            None,
            "{asset}"
        );
    }
    if matches!(platform, Platform::Automate | Platform::Syncro) {
        let located = asset_of(&assets, &devices[1].external_id(platform));
        assert_eq!(located["latitude"], 39.799, "{located}");
        assert_eq!(located["longitude"], -89.644, "{located}");
    }

    let listed = body(
        stack
            .get(&format!(
                "/api/v1/integrations/rmm/{id}/devices/?search=HOST-3"
            ))
            .await,
    )
    .await;
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["results"][0]["online"], false);
    let online = body(
        stack
            .get(&format!(
                "/api/v1/integrations/rmm/{id}/devices/?online=true"
            ))
            .await,
    )
    .await;
    assert_eq!(online["count"], 5, "{online}");
    let mapping = body(
        stack
            .get(&format!("/api/v1/integrations/rmm/{id}/mapping/"))
            .await,
    )
    .await;
    let clients = mapping["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2, "{mapping}");
    let beta_client = clients
        .iter()
        .find(|c| c["client_name"] == "Beta Dental")
        .unwrap();
    assert_eq!(beta_client["organization"], beta, "{mapping}");
    if platform == Platform::Datto {
        let alerts = body(
            stack
                .get(&format!("/api/v1/integrations/rmm/{id}/alerts/"))
                .await,
        )
        .await;
        assert!(alerts["count"].as_i64().unwrap() >= 1, "{alerts}");
        assert!(
            alerts["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["device_name"] == "HOST-3" && a["status"] == "open"),
            "{alerts}"
        );
    }
    let tested = body(
        stack
            .post(&format!("/api/v1/integrations/rmm/{id}/test/"), json!({}))
            .await,
    )
    .await;
    assert_eq!(tested["ok"], true, "{tested}");
    server.stop().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectwise_automate_devices_sync_into_assets() {
    platform_sync(Platform::Automate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datto_rmm_devices_and_alerts_sync_into_assets() {
    platform_sync(Platform::Datto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninjaone_devices_sync_into_assets() {
    platform_sync(Platform::NinjaOne).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncro_devices_sync_into_assets() {
    platform_sync(Platform::Syncro).await;
}

/// Every log line the services write during the test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resyncs_link_retire_keep_user_edits_move_vehicles_and_never_show_credentials() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(move || writer.clone())
        .init();
    let stack = Stack::start(false).await;
    let platform = Platform::Automate;
    let mut devices: Vec<FakeDevice> = (1..=4)
        .map(|i| FakeDevice::numbered(i, 12, "Acme Manufacturing"))
        .collect();
    // Two devices with the same placeholder serial, and an asset already carrying it.
    devices[0].serial = "To be filled by O.E.M.".into();
    devices[1].serial = "To be filled by O.E.M.".into();
    devices[1].coordinates = Some((52.37, 4.89));
    let existing = |name: &str, extra: Value| {
        let mut asset = json!({"name": name, "asset_type": "desktop", "notes": "bought 2021"});
        for (k, v) in extra.as_object().unwrap() {
            asset[k] = v.clone();
        }
        asset
    };
    let placeholder = body(
        stack
            .post(
                "/api/v1/assets/",
                existing("Spare", json!({"serial_number": "To be filled by O.E.M."})),
            )
            .await,
    )
    .await;
    // An asset entered by hand before the integration, found by MAC.
    let by_mac = body(
        stack
            .post(
                "/api/v1/assets/",
                existing(
                    "Reception PC",
                    json!({"mac_address": devices[2].mac.clone()}),
                ),
            )
            .await,
    )
    .await;
    let server = RmmPlatform::start(platform, devices.clone(), Faults::default()).await;
    let id = integration(&stack, &stack.key, platform, &server, json!({})).await;
    let secret = server.credentials()["password"]
        .as_str()
        .unwrap()
        .to_string();

    let run = sync(&stack, id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["created"], 4);
    let assets = linked_assets(&stack, &stack.key, id, 4).await;
    let first = asset_of(&assets, "1");
    let second = asset_of(&assets, "2");
    assert_ne!(
        first["id"], second["id"],
        "placeholder serials never join two devices"
    );
    assert_ne!(first["id"], placeholder["id"]);
    assert_ne!(second["id"], placeholder["id"]);
    assert_eq!(
        first["serial_number"],
        Value::Null,
        "a placeholder is not a serial"
    );
    let reception = asset_of(&assets, "3");
    assert_eq!(reception["id"], by_mac["id"], "matched by MAC");
    assert_eq!(reception["name"], "Reception PC", "the user's name is kept");
    assert_eq!(reception["notes"], "bought 2021");
    let count = body(stack.get("/api/v1/assets/").await).await["count"]
        .as_i64()
        .unwrap();
    assert_eq!(
        count, 5,
        "4 devices: 3 new assets + 1 matched, and the spare"
    );

    // A vehicle linked to device 2.
    let van = body(
        stack
            .post(
                "/api/v1/vehicles/",
                json!({"name": "Van 7", "rmm_device": {"integration": id, "external_id": "2"}}),
            )
            .await,
    )
    .await;
    assert_eq!(van["rmm_device"]["external_id"], "2", "{van}");

    // The user edits an asset; the platform changes its OS, device 2 moves, device 4 vanishes.
    let edited = stack
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/assets/{}/", first["id"]),
            Some(json!({"name": "CEO laptop", "notes": "handle with care", "tags": ["vip"]})),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let mut next = devices.clone();
    next[0].os = "Microsoft Windows 11 Enterprise x64".into();
    next[1].coordinates = Some((48.85, 2.35));
    next.pop();
    server.set_devices(next);
    let run = sync(&stack, id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["created"], 0, "{run}");
    assert_eq!(run["retired"], 1, "{run}");
    assert_eq!(run["updated"], 2, "{run}");
    assert_eq!(run["unchanged"], 1, "{run}");
    let first_id = first["id"].as_i64().unwrap();
    let first = poll_until(
        "the OS change to reach the asset",
        Duration::from_secs(30),
        || async {
            let a = body(stack.get(&format!("/api/v1/assets/{first_id}/")).await).await;
            a["os_name"]
                .as_str()
                .unwrap_or_default()
                .contains("Enterprise")
                .then_some(a)
        },
    )
    .await;
    assert_eq!(first["name"], "CEO laptop", "user edits survive a re-sync");
    assert_eq!(first["notes"], "handle with care");
    assert_eq!(first["tags"], json!(["vip"]));
    let gone = asset_of(&assets, "4")["id"].as_i64().unwrap();
    poll_until(
        "the vanished device's asset to retire",
        Duration::from_secs(30),
        || async {
            let a = body(stack.get(&format!("/api/v1/assets/{gone}/")).await).await;
            (a["status"] == "retired").then_some(())
        },
    )
    .await;
    let van_id = van["id"].as_i64().unwrap();
    let van = poll_until("the vehicle to move", Duration::from_secs(30), || async {
        let v = body(stack.get(&format!("/api/v1/vehicles/{van_id}/")).await).await;
        (v["latitude"] == 48.85).then_some(v)
    })
    .await;
    assert_eq!(van["longitude"], 2.35);
    assert!(van["last_location_update"].is_string(), "{van}");
    let count = body(stack.get("/api/v1/assets/").await).await["count"]
        .as_i64()
        .unwrap();
    assert_eq!(count, 5, "a re-sync creates no duplicates");

    // Credentials: never in responses, never in logs, never in the table as plaintext.
    for path in [
        "/api/v1/integrations/rmm/".to_string(),
        format!("/api/v1/integrations/rmm/{id}/"),
        format!("/api/v1/integrations/rmm/{id}/runs/"),
        format!("/api/v1/integrations/rmm/{id}/devices/"),
    ] {
        let text = stack.get(&path).await.text().await.unwrap();
        assert!(!text.contains(&secret), "{path} shows the password");
    }
    let patched = stack
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/integrations/rmm/{id}/"),
            Some(json!({"sync_interval_minutes": 30})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert!(!patched.text().await.unwrap().contains(&secret));
    let plaintext = stack
        .count(&format!(
            "SELECT count(*) AS n FROM rmm.integrations \
             WHERE position(convert_to('{secret}', 'UTF8') IN credentials_sealed) > 0 \
                OR organization_mapping::text LIKE '%{secret}%'"
        ))
        .await;
    assert_eq!(plaintext, None, "the password is stored sealed");
    let sealed = stack
        .count(&format!("SELECT count(*) AS n FROM rmm.integrations WHERE id = {id} AND length(credentials_sealed) > 40"))
        .await;
    assert_eq!(sealed, Some(1));
    let written = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(written.contains("run finished"), "the log was captured");
    assert!(!written.contains(&secret), "the password is in the log");
    server.stop().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_sync_during_a_scheduled_run_returns_the_running_run() {
    let stack = Stack::start(false).await;
    let devices: Vec<FakeDevice> = (1..=3)
        .map(|i| FakeDevice::numbered(i, 1, "Acme"))
        .collect();
    let server = RmmPlatform::start(Platform::NinjaOne, devices, Faults::default()).await;
    server.hold(true);
    // Enabled: the scheduler runs it at once.
    let id = integration(
        &stack,
        &stack.key,
        Platform::NinjaOne,
        &server,
        json!({"enabled": true}),
    )
    .await;
    let scheduled = poll_until(
        "the scheduled run to start",
        Duration::from_secs(30),
        || async {
            let runs = body(
                stack
                    .get(&format!("/api/v1/integrations/rmm/{id}/runs/"))
                    .await,
            )
            .await;
            let run = runs["results"][0].clone();
            (run["status"] == "running").then_some(run)
        },
    )
    .await;
    assert_eq!(scheduled["trigger"], "schedule");
    let manual = stack
        .post(&format!("/api/v1/integrations/rmm/{id}/sync/"), json!({}))
        .await;
    assert_eq!(manual.status(), 202);
    let manual = body(manual).await;
    assert_eq!(
        manual["id"], scheduled["id"],
        "the running run is returned, not doubled"
    );
    let runs = body(
        stack
            .get(&format!("/api/v1/integrations/rmm/{id}/runs/"))
            .await,
    )
    .await;
    assert_eq!(runs["count"], 1);
    server.hold(false);
    let run_id = scheduled["id"].as_i64().unwrap();
    let done = poll_until("the run to finish", Duration::from_secs(30), || async {
        let run = body(
            stack
                .get(&format!("/api/v1/integrations/rmm/{id}/runs/{run_id}/"))
                .await,
        )
        .await;
        run["finished_at"].is_string().then_some(run)
    })
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["created"], 3);
    let detail = body(stack.get(&format!("/api/v1/integrations/rmm/{id}/")).await).await;
    assert_eq!(detail["last_run"]["id"], run_id);
    assert!(
        detail["next_run_at"].as_str().unwrap()
            > detail["last_run"]["finished_at"].as_str().unwrap()
    );

    // Bad input changes nothing.
    let bad = stack
        .post(
            "/api/v1/integrations/rmm/",
            json!({"name": "x", "provider": "datto_rmm", "region": "mars", "credentials": {"api_key": 1}}),
        )
        .await;
    assert_eq!(bad.status(), 400);
    let bad = body(bad).await;
    assert!(
        bad["region"].is_array() && bad["credentials"].is_array(),
        "{bad}"
    );
    let with_path = stack
        .post(
            "/api/v1/integrations/rmm/",
            json!({"name": "path", "provider": "syncro", "base_url": "https://acme.syncromsp.com/api/v1",
                   "credentials": {"api_key": "k"}}),
        )
        .await;
    assert_eq!(
        with_path.status(),
        400,
        "the client adds the platform's path itself"
    );
    assert!(body(with_path).await["base_url"].is_array());
    let listed = body(
        stack
            .get("/api/v1/integrations/rmm/?provider=ninjaone")
            .await,
    )
    .await;
    assert_eq!(listed["count"], 1);
    server.stop().await;
    stack.stop().await;
}
