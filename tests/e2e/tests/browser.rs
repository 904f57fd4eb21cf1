//! The browsable API in a real browser: Debian's Chromium, headless, driven by
//! `tests/browser/browse.mjs` (playwright-core over CDP), against the whole stack. Screenshots go
//! to `target/browser-shots/`. Also the content negotiation itself, over plain HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use clientstor_e2e::Stack;
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_browses_filters_and_creates_an_asset_in_chromium() {
    let stack = Stack::start(false).await;
    // A webhook whose receiver is down, so that the delivery log has something to retry.
    let webhook: Value = stack
        .post(
            "/api/v1/webhooks/",
            json!({ "name": "down", "url": "http://127.0.0.1:9/hook", "events": ["asset.created"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(webhook["id"].is_i64(), "{webhook}");
    let integration = rmm_integration(&stack).await;
    // A password with an OTP secret, for reveal and the code.
    let secret = "Browser-S3cret-value";
    let password: Value = stack
        .post(
            "/api/v1/passwords/",
            json!({ "title": "browser-secret", "password": secret, "otp_secret": "JBSWY3DPEHPK3PXP" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(password["id"].is_i64(), "{password}");
    // A paused monitor, whose "check now" is refused.
    let monitor: Value = stack
        .post(
            "/api/v1/monitors/",
            json!({ "name": "paused", "monitor_type": "http", "url": "http://127.0.0.1:9/",
                    "is_paused": true }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monitor["is_paused"], true, "{monitor}");
    let mut beta = 0;
    for (name, status) in [("browser-alpha", "active"), ("browser-beta", "retired")] {
        let created = stack
            .post(
                "/api/v1/assets/",
                json!({ "name": name, "status": status, "asset_type": "server" }),
            )
            .await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        beta = created["id"].as_i64().unwrap();
    }
    let deliveries = format!("/api/v1/webhooks/{}/deliveries/", webhook["id"]);
    for _ in 0..100 {
        let log: Value = stack.get(&deliveries).await.json().await.unwrap();
        if log["count"].as_i64() >= Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let node = std::env::var("CLIENTSTOR_TEST_NODE")
        .expect("CLIENTSTOR_TEST_NODE: run through `make test` (scripts/tools.sh)");
    let chromium = std::env::var("CLIENTSTOR_TEST_CHROMIUM")
        .expect("CLIENTSTOR_TEST_CHROMIUM: run through `make test` (scripts/tools.sh)");
    let shots = root().join("target/browser-shots");
    let output = tokio::process::Command::new(node)
        .arg(root().join("tests/browser/browse.mjs"))
        .current_dir(root().join("tests/browser"))
        .env("BASE_URL", format!("http://{}", stack.gateway.addr))
        .env("API_KEY", &stack.key)
        .env("SHOTS_DIR", &shots)
        .env("CHROMIUM", chromium)
        .env("WEBHOOK_ID", webhook["id"].to_string())
        .env("RMM_ID", integration.to_string())
        .env("PASSWORD_ID", password["id"].to_string())
        .env("PASSWORD_VALUE", secret)
        .env("MONITOR_ID", monitor["id"].to_string())
        .env("BETA_ID", beta.to_string())
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(
        seen["steps"],
        json!([
            "root",
            "shell",
            "assets",
            "filter",
            "order",
            "page",
            "create",
            "record",
            "raw-delete",
            "retry",
            "sync",
            "key",
            "password",
            "refusal",
            "swagger"
        ])
    );
    assert_eq!(seen["outside"], json!([]));
    for shot in [
        "01-root.png",
        "02-assets.png",
        "03-filtered.png",
        "04-created.png",
        "05-asset.png",
        "06-deliveries.png",
        "07-password.png",
        "08-swagger.png",
        "09-refused.png",
    ] {
        let size = std::fs::metadata(shots.join(shot)).unwrap().len();
        assert!(size > 5_000, "{shot} is {size} bytes");
    }

    // What the form sent is what the API holds.
    let found: Value = stack
        .get("/api/v1/assets/?search=browser-made")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["count"], 1, "{found}");
    let made = &found["results"][0];
    assert_eq!(made["asset_type"], "laptop");
    assert_eq!(made["serial_number"], "BRW-0001");
    assert_eq!(made["tags"], json!(["made", "browser"]));
    let deleted = stack.get(&format!("/api/v1/assets/{beta}/")).await;
    assert_eq!(deleted.status(), 404, "deleted from its page");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_pages_scripts_get_json() {
    let stack = Stack::start(false).await;
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let get = |path: &str, accept: &str, key: bool| {
        let mut request = stack.http.get(stack.url(path)).header("accept", accept);
        if key {
            request = request.bearer_auth(&stack.key);
        }
        request.send()
    };

    // The root is public, as a page and as JSON.
    let page = get("/api/", html, false).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let text = page.text().await.unwrap();
    for resource in [
        "/api/v1/assets/",
        "/api/v1/passwords/",
        "/api/v1/webhooks/",
        "/api/v1/integrations/rmm/",
        "/api/v1/api-keys/",
    ] {
        assert!(
            text.contains(&format!("href=\"{resource}\"")),
            "{resource} not on the root page"
        );
    }
    let json: Value = get("/api/", "application/json", false)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["assets"], "/api/v1/assets/");
    assert_eq!(json["webhooks_events"], "/api/v1/webhooks/events/");

    // Without a key: the key form, 401, nothing of the resource.
    let shell = get("/api/v1/passwords/", html, false).await.unwrap();
    assert_eq!(shell.status(), 401);
    let text = shell.text().await.unwrap();
    assert!(text.contains("id=\"key-form\"") && text.contains("data-page=\"shell\""));

    // With a key: the rendered list; ?format=json and scripts get JSON.
    let created: Value = stack
        .post(
            "/api/v1/assets/",
            json!({ "name": "<script>alert(1)</script>" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let page = get("/api/v1/assets/", html, true).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["vary"],
        "Accept",
        "one URL, two representations"
    );
    assert!(page.headers().contains_key("x-ratelimit-limit"));
    let text = page.text().await.unwrap();
    assert!(text.contains("id=\"filters\"") && text.contains("id=\"create\""));
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!text.contains("<script>alert(1)"), "record text is escaped");
    let api = get("/api/v1/assets/?format=api", "*/*", true)
        .await
        .unwrap();
    assert!(
        api.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let forced = get("/api/v1/assets/?format=json", html, true)
        .await
        .unwrap();
    assert_eq!(forced.status(), 200);
    assert_eq!(forced.headers()["vary"], "Accept");
    assert!(
        forced.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let record = get(&format!("/api/assets/{}/", created["id"]), html, true)
        .await
        .unwrap();
    let text = record.text().await.unwrap();
    assert!(text.contains("id=\"edit\"") && text.contains("data-method=\"DELETE\""));

    // The screens of the seed: keys, the delivery log's retry, RMM "sync now".
    let keys = get("/api/v1/api-keys/", html, true)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        keys.contains("id=\"create\""),
        "a key can be created from its page"
    );
    let integration = rmm_integration(&stack).await;
    let rmm = get(
        &format!("/api/v1/integrations/rmm/{integration}/"),
        html,
        true,
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        rmm.contains(&format!(
            "data-url=\"/api/v1/integrations/rmm/{integration}/sync/\""
        )),
        "sync now button"
    );
    assert!(
        !rmm.contains("ninja-secret-value"),
        "credentials never rendered"
    );

    // Swagger UI and its files come from the binary.
    let docs = get("/api/v1/docs/", html, false).await.unwrap();
    assert_eq!(docs.status(), 200);
    let bundle = get("/api/v1/docs/swagger-ui-bundle.js", "*/*", false)
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 1_000_000);
    stack.stop().await;
}

/// A disabled NinjaOne integration (its platform is not reachable from here; a sync fails).
async fn rmm_integration(stack: &Stack) -> i64 {
    let created = stack
        .post(
            "/api/v1/integrations/rmm/",
            json!({ "name": "Ninja", "provider": "ninjaone", "base_url": "http://127.0.0.1:9",
                    "credentials": { "client_id": "ninja-client", "client_secret": "ninja-secret-value" },
                    "enabled": false }),
        )
        .await;
    let created: Value = created.json().await.unwrap();
    created["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{created}"))
}
