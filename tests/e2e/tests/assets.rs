//! Assets through the gateway: fields, validation, bulk create, filters, search, ordering,
//! paging, and one event per change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clientstor_e2e::Stack;
use clientstor_testkit::{Receiver, poll_until};
use serde_json::{Value, json};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn names(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_filters_search_ordering_and_paging() {
    fields_filters_search_ordering_and_paging_with(&[]).await;
}

/// The same through the trigram index, which larger reaches use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_filters_search_ordering_and_paging_by_trigrams() {
    fields_filters_search_ordering_and_paging_with(&[("inventory.search_scan_reach", "0")]).await;
}

async fn fields_filters_search_ordering_and_paging_with(overrides: &[(&str, &str)]) {
    let stack = Stack::start_with(overrides).await;
    let full = json!({
        "name": "core-sw-01", "asset_type": "switch", "asset_tag": "TAG-0042", "serial_number": "SN-ABC-1",
        "manufacturer": "Cisco", "model": "C9300-48P", "hostname": "core01.acme.lan", "ip_address": "10.0.0.2",
        "mac_address": "00-1A-2B-3C-4D-5E", "os_name": "IOS-XE", "os_version": "17.9", "firmware_version": "17.9.4",
        "cpu": "ARM", "ram_gb": 8, "storage": "16 GB flash", "status": "in_repair", "purchase_date": "2023-05-01",
        "warranty_expiry": "2028-05-01", "location": "DC1 rack 4", "latitude": 52.37, "longitude": 4.89,
        "notes": "uplinks on 1/1/47-48", "tags": ["core", "dc1"], "custom_fields": {"contract": "SMARTnet"},
        "needs_reorder": true
    });
    let created = stack.post("/api/v1/assets/", full.clone()).await;
    assert_eq!(created.status(), 201);
    let asset = body(created).await;
    assert_eq!(
        asset["mac_address"], "00:1a:2b:3c:4d:5e",
        "stored normalised"
    );
    for field in [
        "asset_tag",
        "model",
        "hostname",
        "ram_gb",
        "warranty_expiry",
        "tags",
        "custom_fields",
        "needs_reorder",
        "latitude",
    ] {
        assert_eq!(asset[field], full[field], "{field}");
    }
    assert!(asset["created_by"].is_number() && asset["source"].is_null());

    // 60 more in one request, spread over types and statuses.
    let bulk: Vec<Value> = (0..60)
        .map(|i| {
            json!({
                "name": format!("ws-{i:02}"), "asset_type": if i % 2 == 0 { "workstation" } else { "laptop" },
                "status": if i % 3 == 0 { "retired" } else { "active" }, "manufacturer": if i % 5 == 0 { "Dell" } else { "Lenovo" },
                "serial_number": format!("SN-{i:04}"), "hostname": format!("ws{i:02}.acme.lan"),
                "ip_address": format!("10.1.0.{i}"), "tags": if i < 10 { vec!["finance"] } else { vec![] },
            })
        })
        .collect();
    let created = stack.post("/api/v1/assets/", Value::Array(bulk)).await;
    assert_eq!(created.status(), 201);
    assert_eq!(body(created).await.as_array().unwrap().len(), 60);

    let count = |path: String| {
        let stack = &stack;
        async move {
            body(stack.get(&path).await).await["count"]
                .as_i64()
                .unwrap()
        }
    };
    // Search reaches every search field, case-insensitively; several words must all match.
    for term in [
        "CORE-SW",
        "sn-abc",
        "tag-0042",
        "c9300",
        "cisco",
        "core01.acme",
        "10.0.0.2",
        "00:1a:2b",
    ] {
        assert_eq!(
            count(format!("/api/v1/assets/?search={term}")).await,
            1,
            "search {term}"
        );
    }
    assert_eq!(count("/api/v1/assets/?search=ws acme.lan".into()).await, 60);
    assert_eq!(count("/api/v1/assets/?search=ws-1 lan".into()).await, 10);
    // Each filter.
    assert_eq!(count("/api/v1/assets/?asset_type=laptop".into()).await, 30);
    assert_eq!(count("/api/v1/assets/?status=retired".into()).await, 20);
    assert_eq!(count("/api/v1/assets/?manufacturer=dell".into()).await, 12);
    assert_eq!(count("/api/v1/assets/?needs_reorder=true".into()).await, 1);
    assert_eq!(count("/api/v1/assets/?tag=finance".into()).await, 10);
    assert_eq!(
        count("/api/v1/assets/?serial_number=SN-0007".into()).await,
        1
    );
    assert_eq!(
        count("/api/v1/assets/?hostname=ws07.acme.lan".into()).await,
        1
    );
    assert_eq!(count("/api/v1/assets/?ip_address=10.1.0.7".into()).await, 1);
    assert_eq!(count("/api/v1/assets/?created_after=2000-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z".into()).await, 61);
    assert_eq!(
        count("/api/v1/assets/?updated_after=2999-01-01T00:00:00Z".into()).await,
        0
    );
    assert_eq!(
        count("/api/v1/assets/?updated_before=2999-01-01T00:00:00Z&asset_type=switch".into()).await,
        1
    );

    // Ordering on several keys; unknown fields are a 400.
    let page = body(
        stack
            .get("/api/v1/assets/?ordering=asset_type,-name&page_size=3")
            .await,
    )
    .await;
    assert_eq!(names(&page), vec!["ws-59", "ws-57", "ws-55"]);
    assert_eq!(
        stack.get("/api/v1/assets/?ordering=colour").await.status(),
        400
    );

    // Paging: default 25, 50, clamped to 200, past the end is 404, links keep the parameters.
    let page = body(stack.get("/api/v1/assets/?ordering=name").await).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 25);
    assert_eq!(
        body(stack.get("/api/v1/assets/?page_size=50").await).await["results"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
    assert_eq!(
        body(stack.get("/api/v1/assets/?page_size=500").await).await["results"]
            .as_array()
            .unwrap()
            .len(),
        61
    );
    assert_eq!(stack.get("/api/v1/assets/?page=4").await.status(), 404);
    let second = body(
        stack
            .get("/api/assets/?ordering=name&search=ws&page=2&page_size=20")
            .await,
    )
    .await;
    let next = second["next"].as_str().unwrap();
    assert!(
        next.contains("/api/assets/?")
            && next.contains("ordering=name")
            && next.contains("search=ws")
            && next.contains("page=3"),
        "{next}"
    );
    let previous = second["previous"].as_str().unwrap();
    assert!(
        previous.starts_with("http://") && !previous.contains("page=2"),
        "{previous}"
    );
    let third = body(
        stack
            .http
            .get(next)
            .bearer_auth(&stack.key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(names(&third).first().map(String::as_str), Some("ws-40"));
    assert!(third["next"].is_null());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_each_field_and_changes_nothing() {
    let stack = Stack::start(false).await;
    let bad = stack
        .post(
            "/api/v1/assets/",
            json!({"name": "", "ip_address": "10.0.0.300", "status": "lost"}),
        )
        .await;
    assert_eq!(bad.status(), 400);
    let errors = body(bad).await;
    for field in ["name", "ip_address", "status"] {
        assert!(errors[field].is_array(), "{field}: {errors}");
    }
    let items = json!([{"name": "ok-1"}, {"name": "bad", "mac_address": "nope"}, {"name": "ok-2"}]);
    let bulk = stack.post("/api/v1/assets/", items).await;
    assert_eq!(bulk.status(), 400);
    let report = body(bulk).await;
    assert_eq!(report[0], json!({}));
    assert!(report[1]["mac_address"].is_array(), "{report}");
    assert_eq!(report[2], json!({}));
    assert_eq!(
        body(stack.get("/api/v1/assets/").await).await["count"],
        0,
        "nothing created"
    );
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"name": format!("a{i}")}))
        .collect();
    assert_eq!(
        stack
            .post("/api/v1/assets/", Value::Array(too_many))
            .await
            .status(),
        400
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_is_one_event_and_updates_say_what_changed() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "all", "url": receiver.url("/all"), "events": ["*"]}),
        )
        .await;
    assert_eq!(hook.status(), 201);
    let asset = body(stack.post("/api/v1/assets/", json!({"name": "fw", "asset_type": "firewall", "hostname": "fw.acme.lan", "tags": ["edge"]})).await).await;
    let url = stack.url(&format!("/api/v1/assets/{}/", asset["id"]));
    let patched = stack
        .http
        .patch(&url)
        .bearer_auth(&stack.key)
        .json(&json!({"name": "fw-1", "tags": ["edge", "dmz"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(
        stack
            .http
            .delete(&url)
            .bearer_auth(&stack.key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let events = poll_until("three events", Duration::from_secs(30), || async {
        let requests = receiver.requests();
        (requests.len() >= 3).then(|| requests.iter().map(|r| r.json()).collect::<Vec<_>>())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests().len(), 3, "exactly one event per change");
    let by_type = |t: &str| events.iter().find(|e| e["event"] == t).cloned().unwrap();
    let created = by_type("asset.created");
    assert_eq!(
        created["data"]["hostname"], "fw.acme.lan",
        "created carries the asset as the API returns it"
    );
    assert_eq!(created["data"]["organization_name"], "Acme Corp");
    let updated = by_type("asset.updated");
    assert_eq!(updated["data"]["changes"]["name"], json!(["fw", "fw-1"]));
    assert_eq!(
        updated["data"]["changes"]["tags"],
        json!([["edge"], ["edge", "dmz"]])
    );
    assert!(
        updated["data"]["changes"].get("hostname").is_none(),
        "unchanged fields are not listed"
    );
    let deleted = by_type("asset.deleted");
    assert_eq!(
        deleted["data"],
        json!({"id": asset["id"], "name": "fw-1", "asset_type": "firewall", "serial_number": null})
    );
    stack.stop().await;
}

/// Lists reuse their count and page ids while nothing changed; any write, through the API or
/// straight into the table (another instance, a sync), must show on the next identical request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_lists_see_every_change() {
    use diesel_async::RunQueryDsl;
    let stack = Stack::start(false).await;
    let path = "/api/v1/assets/?search=probe&ordering=-name";
    for _ in 0..3 {
        assert_eq!(body(stack.get(path).await).await["count"], 0);
    }
    let created = body(
        stack
            .post(
                "/api/v1/assets/",
                json!({"name": "probe-a", "asset_type": "server"}),
            )
            .await,
    )
    .await;
    let page = body(stack.get(path).await).await;
    assert_eq!(page["count"], 1);
    assert_eq!(
        body(stack.get(path).await).await,
        page,
        "unchanged data, same answer"
    );
    let url = format!("/api/v1/assets/{}/", created["id"]);
    stack
        .send(
            reqwest::Method::PATCH,
            &url,
            Some(json!({"serial_number": "S-1"})),
        )
        .await;
    assert_eq!(
        body(stack.get(path).await).await["results"][0]["serial_number"],
        "S-1",
        "rows are read fresh"
    );

    let mut conn = stack.env.db.connect().await;
    let org = stack.org_id;
    diesel::sql_query(format!(
        "INSERT INTO inventory.assets (organization_id, name, asset_type) VALUES ({org}, 'probe-b', 'nas')"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let page = body(stack.get(path).await).await;
    assert_eq!(names(&page), ["probe-b", "probe-a"]);
    diesel::sql_query("UPDATE inventory.assets SET name = 'gone' WHERE name = 'probe-b'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(names(&body(stack.get(path).await).await), ["probe-a"]);
    assert_eq!(
        stack
            .send(reqwest::Method::DELETE, &url, None)
            .await
            .status(),
        204
    );
    assert_eq!(body(stack.get(path).await).await["count"], 0);
    stack.stop().await;
}
