//! The two paths of the system, end to end through the gateway.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use clientstor_e2e::Stack;
use clientstor_testkit::{Receiver, poll_until};
use ring::hmac;
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn verify_standard_signature(received: &clientstor_testkit::Received) {
    let id = received.header("webhook-id").unwrap();
    let timestamp = received.header("webhook-timestamp").unwrap();
    let signature = received.header("webhook-signature").unwrap();
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let signed = [
        id.as_bytes(),
        b".",
        timestamp.as_bytes(),
        b".",
        &received.body,
    ]
    .concat();
    let tag = base64::engine::general_purpose::STANDARD
        .decode(signature.strip_prefix("v1,").unwrap())
        .unwrap();
    hmac::verify(&key, &signed, &tag).expect("webhook-signature verifies");
    let legacy = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes()),
        &received.body,
    );
    assert_eq!(
        received.header("x-webhook-signature").unwrap(),
        format!("sha256={}", hex(legacy.as_ref()))
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn subscribe(stack: &Stack, receiver: &Receiver) {
    let response = stack
        .post("/api/v1/webhooks/", json!({"name": "ops", "url": receiver.url("/hook"), "events": ["asset.created"], "secret": SECRET}))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["secret"], SECRET, "the secret is returned on create");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_created_through_the_gateway_reaches_a_signed_webhook() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;

    let empty = stack.get("/api/v1/assets/").await;
    assert_eq!(empty.status(), 200);
    assert_eq!(
        empty.text().await.unwrap(),
        r#"{"count":0,"next":null,"previous":null,"results":[]}"#
    );

    subscribe(&stack, &receiver).await;
    let created = stack
        .post(
            "/api/assets/",
            json!({"name": "fw-01", "asset_type": "firewall", "serial_number": "SN-1"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let asset: Value = created.json().await.unwrap();
    assert_eq!(asset["organization"], stack.org_id);
    assert_eq!(asset["organization_name"], "Acme Corp");

    let delivered = poll_until("the webhook", Duration::from_secs(30), || async {
        receiver.requests().into_iter().next()
    })
    .await;
    verify_standard_signature(&delivered);
    let payload = delivered.json();
    assert_eq!(payload["event"], "asset.created");
    assert_eq!(
        payload["organization"],
        json!({"id": stack.org_id, "name": "Acme Corp"})
    );
    assert_eq!(payload["data"]["id"], asset["id"]);
    assert_eq!(payload["data"]["name"], "fw-01");
    assert!(
        chrono_like(payload["timestamp"].as_str().unwrap()),
        "timestamp is RFC 3339: {payload}"
    );

    let detail = stack.get(&format!("/api/v1/assets/{}/", asset["id"])).await;
    assert_eq!(detail.status(), 200);
    let list: Value = stack
        .get("/api/assets/?search=FW&page_size=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["serial_number"], "SN-1");
    // Changes and deletion reach a receiver subscribed to them.
    let all_events = Receiver::start().await;
    let subscribed = stack
        .post("/api/v1/webhooks/", json!({"name": "all", "url": all_events.url("/all"), "events": ["asset.updated", "asset.deleted"]}))
        .await;
    assert_eq!(subscribed.status(), 201);
    let asset_url = stack.url(&format!("/api/v1/assets/{}/", asset["id"]));
    let patched = stack
        .http
        .patch(&asset_url)
        .bearer_auth(&stack.key)
        .json(&json!({"serial_number": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert!(
        patched["serial_number"].is_null(),
        "null clears the field: {patched}"
    );
    assert_eq!(patched["name"], "fw-01", "absent fields stay");
    let deleted = stack
        .http
        .delete(&asset_url)
        .bearer_auth(&stack.key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        stack
            .get(&format!("/api/v1/assets/{}/", asset["id"]))
            .await
            .status(),
        404
    );
    let events = poll_until(
        "update and delete webhooks",
        Duration::from_secs(30),
        || async {
            let events: BTreeSet<String> = all_events
                .requests()
                .iter()
                .map(|r| r.json()["event"].as_str().unwrap().to_string())
                .collect();
            (events.len() == 2).then_some(events)
        },
    )
    .await;
    assert_eq!(
        events,
        BTreeSet::from(["asset.updated".to_string(), "asset.deleted".to_string()])
    );

    let bad = stack
        .post("/api/v1/assets/", json!({"asset_type": "toaster"}))
        .await;
    assert_eq!(bad.status(), 400);
    let errors: Value = bad.json().await.unwrap();
    assert!(
        errors["name"].is_array() && errors["asset_type"].is_array(),
        "{errors}"
    );
    stack.stop().await;
}

fn chrono_like(text: &str) -> bool {
    text.len() >= 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_principals_are_checked() {
    let stack = Stack::start(false).await;
    let url = stack.url("/api/v1/assets/");
    let client = &stack.http;
    let status_and_body = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    };

    let (status, body) = status_and_body(client.get(&url).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(
        body["detail"].is_string() && body["code"].is_string() && body["request_id"].is_string(),
        "{body}"
    );
    let (status, _) = status_and_body(
        client
            .get(&url)
            .bearer_auth("itdocs_live_nonsense")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "malformed key");
    // Well formed (valid checksum) but never issued.
    let (_, unknown) = api_gateway::keys::generate().unwrap();
    let (status, _) =
        status_and_body(client.get(&url).bearer_auth(&unknown).send().await.unwrap()).await;
    assert_eq!(status, 401, "unknown key");
    let (status, _) = status_and_body(
        client
            .get(&url)
            .header("authorization", format!("Basic {}", stack.key))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "wrong scheme");

    // Straight to the service, around the gateway.
    let direct = format!("http://{}/api/v1/assets/", stack.inventory.addr);
    let (status, _) = status_and_body(client.get(&direct).send().await.unwrap()).await;
    assert_eq!(status, 401, "no principal");
    let key = stack.inventory.context.principal_key.clone();
    let mut principal = clientstor_http::Principal {
        uid: 1,
        kid: None,
        rid: "t".into(),
        exp: now() + 30,
        adm: true,
        home: Some(stack.org_id),
        orgs: [(stack.org_id, "owner".to_string())].into(),
        roles: [(
            "owner".to_string(),
            clientstor_http::Role::Owner.permissions(),
        )]
        .into(),
    };
    let good = key.sign(&principal);
    let (status, _) = status_and_body(
        client
            .get(&direct)
            .header("x-clientstor-principal", &good)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "a valid principal is accepted");
    let (body, tag) = good.split_once('.').unwrap();
    let mut tampered_body = body.to_string();
    tampered_body.replace_range(4..5, if &body[4..5] == "A" { "B" } else { "A" });
    let (status, _) = status_and_body(
        client
            .get(&direct)
            .header("x-clientstor-principal", format!("{tampered_body}.{tag}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "tampered principal");
    let foreign =
        clientstor_http::PrincipalKey::new(b"not-the-internal-secret-not-it!!").sign(&principal);
    let (status, _) = status_and_body(
        client
            .get(&direct)
            .header("x-clientstor-principal", foreign)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "principal signed with another secret");
    principal.exp = now() - 1;
    let (status, _) = status_and_body(
        client
            .get(&direct)
            .header("x-clientstor-principal", key.sign(&principal))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "expired principal");
    stack.stop().await;
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_in_the_outbox_while_the_broker_is_unreachable() {
    let stack = Stack::start(true).await;
    let receiver = Receiver::start().await;
    subscribe(&stack, &receiver).await;
    let proxy = stack.amqp_proxy.as_ref().unwrap();
    proxy.cut();
    poll_until(
        "readiness to report the broker down",
        Duration::from_secs(30),
        || async {
            let r = reqwest::get(format!("http://{}/readyz", stack.inventory.addr))
                .await
                .ok()?;
            (r.status() == 503).then_some(())
        },
    )
    .await;
    for i in 0..5 {
        let response = stack
            .post(
                "/api/v1/assets/",
                json!({"name": format!("sw-{i}"), "asset_type": "switch"}),
            )
            .await;
        assert_eq!(
            response.status(),
            201,
            "writes go on while the broker is away"
        );
    }
    let pending = stack
        .count_all("SELECT count(*) AS n FROM inventory.outbox WHERE sent_at IS NULL")
        .await;
    assert_eq!(pending, Some(5), "all five events wait in the outbox");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver.requests().is_empty(),
        "nothing can be delivered yet"
    );

    proxy.restore();
    let ids = poll_until("all five webhooks", Duration::from_secs(60), || async {
        let ids: BTreeSet<String> = receiver
            .requests()
            .iter()
            .map(|r| r.header("webhook-id").unwrap().to_string())
            .collect();
        (ids.len() == 5).then_some(ids)
    })
    .await;
    assert_eq!(ids.len(), 5);
    // The relay marks an event sent once the broker confirms it, which can be after the
    // dispatcher has already delivered it.
    poll_until(
        "the outbox to be emptied",
        Duration::from_secs(30),
        || async {
            let pending = stack
                .count_all("SELECT count(*) AS n FROM inventory.outbox WHERE sent_at IS NULL")
                .await;
            (pending == Some(0)).then_some(())
        },
    )
    .await;

    // The broker hands the dispatcher an event it has already processed: no second effect.
    let (event_type, payload) = stack.first_outbox_event().await;
    stack.publish_raw(&event_type, &payload).await;
    let sentinel = stack
        .post(
            "/api/v1/assets/",
            json!({"name": "sentinel", "asset_type": "other"}),
        )
        .await;
    assert_eq!(sentinel.status(), 201);
    poll_until("the sentinel webhook", Duration::from_secs(30), || async {
        (receiver.requests().len() >= 6).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = receiver.requests();
    let unique: BTreeSet<&str> = all
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert_eq!(all.len(), 6, "the duplicate delivery had no effect");
    assert_eq!(unique.len(), 6);
    assert_eq!(
        stack
            .count_all("SELECT count(*) AS n FROM webhooks.deliveries")
            .await,
        Some(6)
    );
    stack.stop().await;
}
