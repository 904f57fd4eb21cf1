//! Webhook delivery through the gateway: retries, disabling, Retry-After, redirects, the
//! delivery log, manual retry and recover, rotation, test events, the outbound guard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine as _;
use clientstor_e2e::Stack;
use clientstor_testkit::{Receiver, poll_until};
use ring::hmac;
use serde_json::{Value, json};

async fn subscribe(stack: &Stack, receiver: &Receiver, path: &str) -> Value {
    let response = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": path, "url": receiver.url(path), "events": ["asset.created"]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn create_asset(stack: &Stack, name: &str) {
    let response = stack
        .post(
            "/api/v1/assets/",
            json!({"name": name, "asset_type": "server"}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

async fn json_get(stack: &Stack, path: &str) -> Value {
    stack.get(path).await.json().await.unwrap()
}

/// The single delivery of a webhook once it reached `status`.
async fn delivery_when(stack: &Stack, hook: &Value, status: &str) -> Value {
    let path = format!(
        "/api/v1/webhooks/{}/deliveries/?status={status}",
        hook["id"]
    );
    poll_until(
        &format!("a {status} delivery"),
        Duration::from_secs(30),
        || async {
            let page = json_get(stack, &path).await;
            (page["count"] == 1).then(|| page["results"][0].clone())
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receivers_get_retries_and_the_log_shows_every_attempt() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    receiver.script(&[(500, &[]), (500, &[])]);
    let hook = subscribe(&stack, &receiver, "/flaky").await;
    create_asset(&stack, "srv-1").await;
    let delivered = delivery_when(&stack, &hook, "success").await;
    let attempts = delivered["attempts"].as_array().unwrap();
    let statuses: Vec<i64> = attempts
        .iter()
        .map(|a| a["response_status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, vec![500, 500, 200], "the third attempt succeeds");
    assert!(
        attempts
            .iter()
            .all(|a| a["duration_ms"].is_number() && a["attempted_at"].is_string())
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.header("webhook-id") == delivered["webhook_id"].as_str()),
        "stable webhook-id"
    );
    assert!(
        requests[0]
            .header("user-agent")
            .unwrap()
            .starts_with("ClientSt0r-Webhooks/")
    );
    let detail = json_get(
        &stack,
        &format!(
            "/api/v1/webhooks/{}/deliveries/{}/",
            hook["id"], delivered["id"]
        ),
    )
    .await;
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(detail["event"], "asset.created");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_redirects_fail_and_retry_after_is_honoured() {
    let stack = Stack::start(false).await;
    let gone = Receiver::start().await;
    gone.respond_with(410);
    let gone_hook = subscribe(&stack, &gone, "/gone").await;
    let moved = Receiver::start().await;
    moved.respond_with(302);
    moved.script(&[(302, &[("location", "http://127.0.0.1:9/elsewhere")])]);
    let moved_hook = subscribe(&stack, &moved, "/moved").await;
    let busy = Receiver::start().await;
    busy.script(&[(429, &[("retry-after", "3")])]);
    let busy_hook = subscribe(&stack, &busy, "/busy").await;
    create_asset(&stack, "srv-1").await;

    let exhausted = delivery_when(&stack, &gone_hook, "exhausted").await;
    assert_eq!(
        exhausted["attempts"].as_array().unwrap().len(),
        1,
        "410 is not retried"
    );
    let endpoint = json_get(&stack, &format!("/api/v1/webhooks/{}/", gone_hook["id"])).await;
    assert_eq!(endpoint["is_active"], false);
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );

    let failed = poll_until("the redirect attempts", Duration::from_secs(30), || async {
        let page = json_get(
            &stack,
            &format!("/api/v1/webhooks/{}/deliveries/", moved_hook["id"]),
        )
        .await;
        let first = page["results"][0].clone();
        (first["attempt_count"].as_i64()? >= 1).then_some(first)
    })
    .await;
    assert_ne!(failed["status"], "success", "a redirect is a failure");
    assert_eq!(failed["attempts"][0]["response_status"], 302);
    assert_eq!(
        moved
            .requests()
            .iter()
            .filter(|r| r.path == "/elsewhere")
            .count(),
        0,
        "redirects are not followed"
    );

    let succeeded = delivery_when(&stack, &busy_hook, "success").await;
    let times: Vec<chrono::DateTime<chrono::Utc>> = succeeded["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempted_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 2);
    // The schedule's step is 1 s (±20 %); Retry-After: 3 asks for more and gets up to twice the step.
    assert!(
        times[1] - times[0] >= chrono::Duration::milliseconds(1900),
        "Retry-After was not honoured: {times:?}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_retry_and_recover_resend_failed_deliveries() {
    let stack = Stack::start_with(&[("webhooks.retry_schedule", "0,1s")]).await;
    let receiver = Receiver::start().await;
    receiver.respond_with(500);
    let hook = subscribe(&stack, &receiver, "/down").await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    for name in ["a", "b", "c"] {
        create_asset(&stack, name).await;
    }
    let path = format!(
        "/api/v1/webhooks/{}/deliveries/?status=exhausted",
        hook["id"]
    );
    let exhausted = poll_until(
        "three exhausted deliveries",
        Duration::from_secs(30),
        || async {
            let page = json_get(&stack, &path).await;
            (page["count"] == 3).then_some(page)
        },
    )
    .await;
    receiver.respond_with(200);
    let one = exhausted["results"][0]["id"].clone();
    let retry = stack
        .post(
            &format!("/api/v1/webhooks/{}/deliveries/{one}/retry/", hook["id"]),
            json!({}),
        )
        .await;
    assert_eq!(retry.status(), 202);
    poll_until("the retried delivery", Duration::from_secs(30), || async {
        let detail = json_get(
            &stack,
            &format!("/api/v1/webhooks/{}/deliveries/{one}/", hook["id"]),
        )
        .await;
        (detail["status"] == "success").then_some(())
    })
    .await;
    let recover_path = format!("/api/v1/webhooks/{}/recover/", hook["id"]);
    let dry: Value = stack
        .post(&recover_path, json!({"since": since, "dry_run": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["count"], 2, "two are still exhausted");
    let recovered = stack.post(&recover_path, json!({"since": since})).await;
    assert_eq!(recovered.status(), 202);
    poll_until(
        "every delivery to succeed",
        Duration::from_secs(30),
        || async {
            let page = json_get(
                &stack,
                &format!("/api/v1/webhooks/{}/deliveries/?status=success", hook["id"]),
            )
            .await;
            (page["count"] == 3).then_some(())
        },
    )
    .await;
    stack.stop().await;
}

fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], signature: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body].concat();
    let Some(tag) = signature.strip_prefix("v1,") else {
        return false;
    };
    let tag = base64::engine::general_purpose::STANDARD
        .decode(tag)
        .unwrap();
    hmac::verify(&key, &signed, &tag).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_secrets_sign_during_rotation_and_test_events_arrive() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    let hook = subscribe(&stack, &receiver, "/rotating").await;
    let old = hook["secret"].as_str().unwrap().to_string();
    let rotated: Value = stack
        .post(
            &format!("/api/v1/webhooks/{}/rotate-secret/", hook["id"]),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    let listed = json_get(&stack, &format!("/api/v1/webhooks/{}/", hook["id"])).await;
    assert!(
        listed.get("secret").is_none(),
        "the secret is shown only by create and rotate"
    );

    let test = stack
        .post(&format!("/api/v1/webhooks/{}/test/", hook["id"]), json!({}))
        .await;
    assert_eq!(test.status(), 202);
    let received = poll_until("the test event", Duration::from_secs(30), || async {
        receiver.requests().into_iter().next()
    })
    .await;
    assert_eq!(received.json()["event"], "webhook.test");
    let (id, timestamp) = (
        received.header("webhook-id").unwrap(),
        received.header("webhook-timestamp").unwrap(),
    );
    let signatures: Vec<&str> = received
        .header("webhook-signature")
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(
        signatures.len(),
        2,
        "two secrets sign during the grace period"
    );
    assert!(
        signatures
            .iter()
            .any(|s| verify(&new, id, timestamp, &received.body, s))
    );
    assert!(
        signatures
            .iter()
            .any(|s| verify(&old, id, timestamp, &received.body, s))
    );

    let catalogue = json_get(&stack, "/api/v1/webhooks/events/").await;
    assert_eq!(catalogue["count"], 7);
    assert!(catalogue["results"].as_array().unwrap().iter().any(|e| {
        e["name"] == "monitor.down"
            && e["data_schema"]["required"]
                .as_array()
                .unwrap()
                .contains(&json!("error"))
    }));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_refused_unless_allowed_and_headers_are_checked() {
    let stack = Stack::start_with(&[("outbound.allow_private", "false")]).await;
    let refused = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "local", "url": "http://127.0.0.1:8080/hook", "events": ["*"]}),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let errors: Value = refused.json().await.unwrap();
    assert!(
        errors["url"][0].as_str().unwrap().contains("not allowed"),
        "{errors}"
    );
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "ftp://example.com/",
    ] {
        let response = stack
            .post(
                "/api/v1/webhooks/",
                json!({"name": "x", "url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(response.status(), 400, "{url}");
    }
    let forged = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "x", "url": "http://93.184.216.34/", "events": ["*"], "custom_headers": {"webhook-signature": "v1,forged"}}),
        )
        .await;
    assert_eq!(forged.status(), 400);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_endpoints_get_the_events_of_one_asset_in_order() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    // The first attempt fails; the update must still wait for the creation to get through.
    receiver.script(&[(500, &[])]);
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "ordered", "url": receiver.url("/o"), "events": ["asset.created", "asset.updated"], "ordered": true}),
        )
        .await;
    assert_eq!(hook.status(), 201);
    let hook: Value = hook.json().await.unwrap();
    assert_eq!(hook["ordered"], true);
    let asset: Value = stack
        .post(
            "/api/v1/assets/",
            json!({"name": "o-1", "asset_type": "server"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let patched = stack
        .http
        .patch(stack.url(&format!("/api/v1/assets/{}/", asset["id"])))
        .bearer_auth(&stack.key)
        .json(&json!({"name": "o-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let events = poll_until("three requests", Duration::from_secs(30), || async {
        let requests = receiver.requests();
        (requests.len() >= 3).then(|| {
            requests
                .iter()
                .map(|r| r.json()["event"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
    })
    .await;
    assert_eq!(
        events,
        vec!["asset.created", "asset.created", "asset.updated"]
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_for_five_days_is_disabled() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    receiver.respond_with(503);
    let hook = subscribe(&stack, &receiver, "/dying").await;
    // Its last success was six days ago.
    let sql = format!(
        "UPDATE webhooks.endpoints SET failing_since = now() - interval '6 days' WHERE id = {}",
        hook["id"]
    );
    let mut conn = stack.env.db.connect().await;
    diesel_async::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn)
        .await
        .unwrap();
    create_asset(&stack, "srv-1").await;
    let endpoint = poll_until(
        "the endpoint to be disabled",
        Duration::from_secs(30),
        || async {
            let endpoint = json_get(&stack, &format!("/api/v1/webhooks/{}/", hook["id"])).await;
            (endpoint["is_active"] == false).then_some(endpoint)
        },
    )
    .await;
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("5 days"),
        "{endpoint}"
    );
    // Turning it on again clears the reason and the streak.
    let enabled = stack
        .http
        .patch(stack.url(&format!("/api/v1/webhooks/{}/", hook["id"])))
        .bearer_auth(&stack.key)
        .json(&json!({"is_active": true}))
        .send()
        .await
        .unwrap();
    let enabled: Value = enabled.json().await.unwrap();
    assert_eq!(enabled["is_active"], true);
    assert!(
        enabled["disabled_reason"].is_null() && enabled["failing_since"].is_null(),
        "{enabled}"
    );
    stack.stop().await;
}
