//! CVE feeds matched to assets, through the gateway: a local NVD CVE API 2.0 and KEV server,
//! software lists, findings, `vulnerability.found` webhooks, and `inventory import-cves`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clientstor_config::Service;
use clientstor_e2e::Stack;
use clientstor_testkit::feeds::{FeedServer, nvd_item};
use clientstor_testkit::{Receiver, poll_until};
use serde_json::{Value, json};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

const WIDGET: &str = "cpe:2.3:a:example:widget:*:*:*:*:*:*:*:*";
const GADGET: &str = "cpe:2.3:a:example:gadget:*:*:*:*:*:*:*:*";

/// An asset running one piece of software; returns its id.
async fn asset_with(stack: &Stack, name: &str, software: Value) -> i64 {
    let asset = body(
        stack
            .post(
                "/api/v1/assets/",
                json!({"name": name, "asset_type": "server"}),
            )
            .await,
    )
    .await;
    let id = asset["id"].as_i64().unwrap();
    let put = stack
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/assets/{id}/software/"),
            Some(json!([software])),
        )
        .await;
    assert_eq!(put.status(), 200);
    id
}

async fn findings(stack: &Stack, query: &str) -> Value {
    body(stack.get(&format!("/api/v1/vulnerabilities/{query}")).await).await
}

/// Starts a feed sync and waits until it finished and the matcher has no asset left.
async fn feed_sync(stack: &Stack) -> Value {
    let started = stack
        .post("/api/v1/vulnerabilities/feed-sync/", json!({}))
        .await;
    assert_eq!(started.status(), 202);
    let id = body(started).await["id"].as_i64().unwrap();
    poll_until("the feed sync", Duration::from_secs(60), || async move {
        let sync = body(
            stack
                .get(&format!("/api/v1/vulnerabilities/feed-sync/{id}/"))
                .await,
        )
        .await;
        (sync["finished_at"].is_string() && sync["assets_pending"] == 0).then_some(sync)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_find_match_resolve_and_never_repeat_an_event() {
    let feeds = FeedServer::start(
        vec![
            nvd_item(
                "CVE-2099-0001",
                "Remote code execution in Example Widget before 4.2.1.",
                9.8,
                WIDGET,
                &[
                    ("versionStartIncluding", "4.0.0"),
                    ("versionEndExcluding", "4.2.1"),
                ],
            ),
            nvd_item(
                "CVE-2099-0002",
                "Example Gadget up to 2.0 leaks memory.",
                5.3,
                GADGET,
                &[("versionEndIncluding", "2.0")],
            ),
        ],
        vec![
            json!({"cveID": "CVE-2099-0001", "vendorProject": "Example", "product": "Widget",
                    "dateAdded": "2099-01-05", "knownRansomwareCampaignUse": "Known"}),
        ],
        1,
    )
    .await;
    let (nvd, kev) = (feeds.nvd_url(), feeds.kev_url());
    let stack = Stack::start_with(&[
        ("inventory.nvd_url", &nvd),
        ("inventory.kev_url", &kev),
        ("inventory.nvd_pause_ms", "0"),
    ])
    .await;
    let receiver = Receiver::start().await;
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "vulns", "url": receiver.url("/hook"), "events": ["vulnerability.found"]}),
        )
        .await;
    assert_eq!(hook.status(), 201);
    feed_sync(&stack).await;
    assert!(
        feeds.requests().iter().any(|q| q.contains("startIndex=1")),
        "the NVD listing was paged: {:?}",
        feeds.requests()
    );

    let inside = asset_with(
        &stack,
        "inside",
        json!({"name": "Widget", "vendor": "Example", "version": "4.1.0"}),
    )
    .await;
    let at_end = asset_with(
        &stack,
        "at-end",
        json!({"name": "Widget", "vendor": "Example", "version": "4.2.1"}),
    )
    .await;
    let at_start = asset_with(
        &stack,
        "at-start",
        json!({"name": "Widget", "vendor": "Example", "version": "4.0.0"}),
    )
    .await;
    let gadget = asset_with(
        &stack,
        "gadget",
        json!({"name": "Gadget", "cpe": "cpe:2.3:a:example:gadget:2.0:*:*:*:*:*:*:*"}),
    )
    .await;
    let newer = asset_with(
        &stack,
        "newer-gadget",
        json!({"name": "Gadget", "vendor": "Example", "version": "2.0.1"}),
    )
    .await;

    let open = poll_until("three findings", Duration::from_secs(30), || async {
        let page = findings(&stack, "?status=open").await;
        (page["count"] == 3).then_some(page)
    })
    .await;
    let on = |asset: i64| {
        open["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["asset"] == asset)
            .map(|f| f["cve_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(on(inside), ["CVE-2099-0001"]);
    assert_eq!(
        on(at_start),
        ["CVE-2099-0001"],
        "versionStartIncluding includes 4.0.0"
    );
    assert!(on(at_end).is_empty(), "versionEndExcluding excludes 4.2.1");
    assert_eq!(
        on(gadget),
        ["CVE-2099-0002"],
        "versionEndIncluding includes 2.0"
    );
    assert!(on(newer).is_empty());
    let widget = open["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["asset"] == inside)
        .unwrap()
        .clone();
    assert_eq!(widget["known_exploited"], true, "{widget}");
    assert_eq!(widget["severity"], "critical");
    assert_eq!(widget["cvss_score"], 9.8);
    assert_eq!(widget["matched"]["version"], "4.1.0");
    let exploited = findings(&stack, "?known_exploited=true&status=open").await;
    assert_eq!(exploited["count"], 2);
    let severe = findings(&stack, "?cvss_min=9&ordering=-cvss").await;
    assert_eq!(severe["count"], 2);
    let of_asset = body(
        stack
            .get(&format!("/api/v1/assets/{gadget}/vulnerabilities/"))
            .await,
    )
    .await;
    assert_eq!(of_asset["count"], 1);
    assert_eq!(of_asset["results"][0]["cve_id"], "CVE-2099-0002");

    let hooks = poll_until("three webhooks", Duration::from_secs(30), || async {
        let r = receiver.requests();
        (r.len() >= 3).then_some(r)
    })
    .await;
    let data: Vec<Value> = hooks.iter().map(|r| r.json()["data"].clone()).collect();
    let first = data.iter().find(|d| d["asset_id"] == inside).unwrap();
    assert_eq!(first["cve_id"], "CVE-2099-0001");
    assert_eq!(first["asset_name"], "inside");
    assert_eq!(first["known_exploited"], true);
    assert_eq!(first["severity"], "critical");
    assert_eq!(
        first["matched"]["product"]
            .as_str()
            .map(|p| p.to_lowercase().contains("widget")),
        Some(true)
    );
    assert_eq!(first["matched"]["version"], "4.1.0");
    assert!(first["summary"].as_str().unwrap().contains("Widget"));
    assert!(
        first["published_at"]
            .as_str()
            .unwrap()
            .starts_with("2099-01-02")
    );

    // Upgrading the software resolves the finding.
    let upgraded = stack
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/assets/{inside}/software/"),
            Some(json!([{"name": "Widget", "vendor": "Example", "version": "4.2.1"}])),
        )
        .await;
    assert_eq!(upgraded.status(), 200);
    poll_until(
        "the finding to resolve",
        Duration::from_secs(30),
        || async {
            let page = findings(&stack, &format!("?asset={inside}")).await;
            (page["results"][0]["status"] == "resolved").then_some(())
        },
    )
    .await;

    // A second sync sends nothing twice.
    feed_sync(&stack).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 3, "no duplicate vulnerability.found");

    // Ignoring needs a reason.
    let target = findings(&stack, &format!("?asset={at_start}")).await["results"][0]["id"]
        .as_i64()
        .unwrap();
    let no_reason = stack
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/vulnerabilities/{target}/"),
            Some(json!({"status": "ignored"})),
        )
        .await;
    assert_eq!(no_reason.status(), 400);
    let ignored = body(
        stack
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/vulnerabilities/{target}/"),
                Some(json!({"status": "ignored", "ignored_reason": "isolated lab machine"})),
            )
            .await,
    )
    .await;
    assert_eq!(ignored["status"], "ignored");
    assert_eq!(ignored["ignored_reason"], "isolated lab machine");

    // An air-gapped import: an excluding lower bound.
    let file = std::env::temp_dir().join(format!("cves-{}.json", std::process::id()));
    let items = json!({"resultsPerPage": 1, "startIndex": 0, "totalResults": 1,
        "vulnerabilities": [nvd_item("CVE-2099-0003", "Example Gadget 2.x overflow.", 7.5, GADGET,
            &[("versionStartExcluding", "2.0"), ("versionEndExcluding", "3.0")])]});
    std::fs::write(&file, items.to_string()).unwrap();
    let settings = stack.env.settings(Service::Inventory, &[]);
    let code = inventory::cli::import_cves(settings, std::slice::from_ref(&file)).await;
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    std::fs::remove_file(&file).unwrap();
    let imported = poll_until(
        "the imported CVE to match",
        Duration::from_secs(30),
        || async {
            let page = findings(&stack, "?cve_id=CVE-2099-0003").await;
            (page["count"] == 1).then_some(page)
        },
    )
    .await;
    assert_eq!(
        imported["results"][0]["asset"], newer,
        "2.0.1 is above the excluded 2.0"
    );
    poll_until("the fourth webhook", Duration::from_secs(30), || async {
        (receiver.count() == 4).then_some(())
    })
    .await;

    let bad = stack
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/assets/{gadget}/software/"),
            Some(json!([{"name": "ok"}, {"version": "1"}, {"name": "x", "cpe": "not-a-cpe"}])),
        )
        .await;
    assert_eq!(bad.status(), 400);
    let bad = body(bad).await;
    assert_eq!(bad[0], json!({}));
    assert!(
        bad[1]["name"].is_array() && bad[2]["cpe"].is_array(),
        "{bad}"
    );
    let still = body(
        stack
            .get(&format!("/api/v1/assets/{gadget}/software/"))
            .await,
    )
    .await;
    assert_eq!(
        still.as_array().unwrap().len(),
        1,
        "a bad list changes nothing"
    );
    feeds.stop().await;
    stack.stop().await;
}
