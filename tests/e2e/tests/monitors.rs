//! WAN monitors through the gateway against targets the tests start: state, one event per
//! transition, pause and maintenance, TCP, ICMP, TLS expiry, and two workers sharing monitors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clientstor_e2e::Stack;
use clientstor_testkit::{Receiver, poll_until};
use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn fast_stack() -> Stack {
    Stack::start_with(&[("monitor.min_interval_seconds", "1")]).await
}

async fn monitor(stack: &Stack, id: &Value) -> Value {
    body(stack.get(&format!("/api/v1/monitors/{id}/")).await).await
}

async fn wait_status(stack: &Stack, id: &Value, status: &str) -> Value {
    poll_until(
        &format!("monitor {status}"),
        Duration::from_secs(20),
        || async {
            let m = monitor(stack, id).await;
            (m["status"] == status).then_some(m)
        },
    )
    .await
}

fn events(receiver: &Receiver) -> Vec<Value> {
    receiver.requests().iter().map(|r| r.json()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_goes_down_and_up_with_one_event_each() {
    let stack = fast_stack().await;
    let target = Receiver::start().await;
    let hooks = Receiver::start().await;
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "alerts", "url": hooks.url("/hook"), "events": ["monitor.down", "monitor.up"]}),
        )
        .await;
    assert_eq!(hook.status(), 201);
    let bad = body(
        stack
            .post(
                "/api/v1/monitors/",
                json!({"name": "x", "monitor_type": "http", "url": "ftp://nope", "interval_seconds": 0,
                       "expected_status": "abc"}),
            )
            .await,
    )
    .await;
    for field in ["url", "interval_seconds", "expected_status"] {
        assert!(bad[field].is_array(), "{field}: {bad}");
    }
    let created = stack
        .post(
            "/api/v1/monitors/",
            json!({"name": "Client site", "monitor_type": "http", "url": target.url("/health"),
                   "interval_seconds": 1, "timeout_seconds": 1, "failure_threshold": 2,
                   "success_threshold": 2, "expected_status": "200-299"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    let id = created["id"].clone();
    let up = wait_status(&stack, &id, "up").await;
    assert_eq!(up["last_status_code"], 200);
    assert!(up["uptime"]["24h"].as_f64().unwrap() > 99.0, "{up}");

    target.respond_with(503);
    let down = wait_status(&stack, &id, "down").await;
    assert!(down["down_since"].is_string());
    poll_until("monitor.down", Duration::from_secs(15), || async {
        (hooks.count() >= 1).then_some(())
    })
    .await;
    target.respond_with(200);
    wait_status(&stack, &id, "up").await;
    poll_until("monitor.up", Duration::from_secs(15), || async {
        (hooks.count() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = events(&hooks);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["event"], "monitor.down");
    let data = &sent[0]["data"];
    assert_eq!(data["monitor_id"], id);
    assert_eq!(data["name"], "Client site");
    assert_eq!(data["url"], target.url("/health"));
    assert_eq!(data["monitor_type"], "http");
    assert_eq!(data["consecutive_failures"], 2);
    assert!(data["error"].as_str().unwrap().contains("503"), "{data}");
    assert!(data["checked_at"].is_string());
    assert_eq!(sent[1]["event"], "monitor.up");
    assert!(sent[1]["data"]["down_since"].is_string());
    assert!(sent[1]["data"]["downtime_seconds"].as_i64().unwrap() >= 1);

    // Paused: no checks, no events.
    let paused = stack
        .send(Method::POST, &format!("/api/v1/monitors/{id}/pause/"), None)
        .await;
    assert_eq!(body(paused).await["status"], "paused");
    target.respond_with(503);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(hooks.count(), 2);
    assert_eq!(monitor(&stack, &id).await["status"], "paused");

    // In maintenance: checked, shown as maintenance, no events.
    let now = chrono::Utc::now();
    let window = json!([{"start": (now - chrono::Duration::minutes(1)).to_rfc3339(),
                         "end": (now + chrono::Duration::minutes(10)).to_rfc3339()}]);
    let patched = stack
        .send(
            Method::PATCH,
            &format!("/api/v1/monitors/{id}/"),
            Some(json!({"maintenance_windows": window})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    stack
        .send(
            Method::POST,
            &format!("/api/v1/monitors/{id}/resume/"),
            None,
        )
        .await;
    wait_status(&stack, &id, "maintenance").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(hooks.count(), 2, "nothing during maintenance");

    let history = body(
        stack
            .get(&format!("/api/v1/monitors/{id}/checks/?page_size=5"))
            .await,
    )
    .await;
    assert!(history["count"].as_i64().unwrap() >= 6);
    assert_eq!(history["results"][0]["result"], "down");
    assert!(history["results"][0]["error"].is_string());
    let listed = body(
        stack
            .get("/api/v1/monitors/?search=client&monitor_type=http")
            .await,
    )
    .await;
    assert_eq!(listed["count"], 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_and_icmp_checks() {
    let stack = fast_stack().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let _ = listener.accept().await;
        }
    });
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let create = |body: Value| {
        let stack = &stack;
        async move {
            let created = stack.post("/api/v1/monitors/", body).await;
            assert_eq!(created.status(), 201);
            created.json::<Value>().await.unwrap()["id"].clone()
        }
    };
    let open = create(
        json!({"name": "ssh", "monitor_type": "tcp", "host": "127.0.0.1",
                             "port": open_port, "interval_seconds": 1, "timeout_seconds": 1}),
    )
    .await;
    let closed = create(
        json!({"name": "rdp", "monitor_type": "tcp", "host": "127.0.0.1",
                               "port": closed_port, "interval_seconds": 1, "timeout_seconds": 1,
                               "failure_threshold": 2}),
    )
    .await;
    let ping = create(
        json!({"name": "gateway", "monitor_type": "icmp", "host": "127.0.0.1",
                             "interval_seconds": 1, "timeout_seconds": 1}),
    )
    .await;
    wait_status(&stack, &open, "up").await;
    let down = wait_status(&stack, &closed, "down").await;
    assert!(
        down["last_error"].as_str().unwrap().contains("connect"),
        "{down}"
    );
    let pinged = wait_status(&stack, &ping, "up").await;
    assert!(pinged["last_response_time_ms"].is_number());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_self_signed_certificate_shows_days_left() {
    let stack = fast_stack().await;
    let server = clientstor_testkit::TlsServer::start(10).await;
    let created = body(
        stack
            .post(
                "/api/v1/monitors/",
                json!({"name": "appliance", "monitor_type": "http", "url": server.url(),
                       "verify_tls": false, "interval_seconds": 1, "timeout_seconds": 1}),
            )
            .await,
    )
    .await;
    let seen = poll_until("the certificate", Duration::from_secs(20), || async {
        let m = monitor(&stack, &created["id"]).await;
        (!m["tls"].is_null()).then_some(m)
    })
    .await;
    let days = seen["tls"]["days_left"].as_i64().unwrap();
    assert!((9..=10).contains(&days), "{seen}");
    assert_eq!(seen["tls"]["expiring_soon"], true);
    assert!(
        seen["tls"]["subject"]
            .as_str()
            .unwrap()
            .contains("appliance.test"),
        "{seen}"
    );
    wait_status(&stack, &created["id"], "up").await;
    // Verified TLS refuses the self-signed certificate.
    let strict = body(
        stack
            .post(
                "/api/v1/monitors/",
                json!({"name": "strict", "monitor_type": "http", "url": server.url(),
                       "interval_seconds": 1, "timeout_seconds": 1, "failure_threshold": 1}),
            )
            .await,
    )
    .await;
    let down = wait_status(&stack, &strict["id"], "down").await;
    assert!(down["last_error"].is_string());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_500_monitors_and_one_takes_over() {
    let stack = fast_stack().await;
    let target = Receiver::start().await;
    let second = clientstor_runtime::start(
        &monitor_worker::definition(),
        stack.env.settings(
            clientstor_config::Service::Monitor,
            &[("monitor.min_interval_seconds", "1")],
        ),
    )
    .await
    .unwrap();
    let mut conn = stack.env.db.connect().await;
    diesel::sql_query(format!(
        "INSERT INTO monitor.monitors (organization_id, name, monitor_type, url, interval_seconds, \
           timeout_seconds, next_check_at) \
         SELECT {}, 'm' || n, 'http', '{}', 2, 1, now() + (n % 20) * interval '100 milliseconds' \
         FROM generate_series(1, 500) n",
        stack.org_id,
        target.url("/ok")
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let twice = stack
        .count_all(
            "SELECT count(*) AS n FROM (SELECT monitor_id, due_at FROM monitor.checks \
             GROUP BY 1, 2 HAVING count(*) > 1) t",
        )
        .await;
    assert_eq!(twice, Some(0), "a monitor checked twice in one interval");
    let checked = stack
        .count_all("SELECT count(DISTINCT monitor_id) AS n FROM monitor.checks")
        .await;
    assert_eq!(checked, Some(500));
    second.stop().await;
    let stopped = chrono::Utc::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = stack
        .count_all(&format!(
            "SELECT count(DISTINCT monitor_id) AS n FROM monitor.checks WHERE checked_at > '{}'",
            stopped.to_rfc3339()
        ))
        .await;
    assert_eq!(
        after,
        Some(500),
        "every monitor still checked by the remaining worker"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_rolls_up_into_hours_and_days_and_expires() {
    let stack = fast_stack().await;
    let mut conn = stack.env.db.connect().await;
    diesel::sql_query(format!(
        "INSERT INTO monitor.monitors (organization_id, name, monitor_type, url, is_paused) \
         VALUES ({}, 'history', 'http', 'http://127.0.0.1:9/', true)",
        stack.org_id
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    // Four checks this hour (three up), and one past raw retention.
    diesel::sql_query(
        "INSERT INTO monitor.checks (monitor_id, checked_at, due_at, ok, response_time_ms) \
         SELECT m.id, t, t, ok, 100 FROM monitor.monitors m, \
           (VALUES (date_trunc('hour', now()) + interval '1 second', true), \
                   (date_trunc('hour', now()) + interval '2 seconds', true), \
                   (date_trunc('hour', now()) + interval '3 seconds', false), \
                   (date_trunc('hour', now()) + interval '4 seconds', true), \
                   (now() - interval '8 days', true)) AS c(t, ok)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    monitor_worker::db::checks::roll_up(&stack.monitor.context.pool, 7, 90)
        .await
        .unwrap();
    let hour = stack
        .count_all(
            "SELECT (ok_checks * 100 + checks)::int8 AS n FROM monitor.rollups \
             WHERE granularity = 'hour' AND bucket = date_trunc('hour', now())",
        )
        .await;
    assert_eq!(hour, Some(304), "3 of 4 up this hour");
    let day = stack
        .count_all(
            "SELECT checks::int8 AS n FROM monitor.rollups \
             WHERE granularity = 'day' AND bucket = date_trunc('day', now())",
        )
        .await;
    assert_eq!(day, Some(4));
    let old = stack
        .count_all(
            "SELECT count(*) AS n FROM monitor.checks WHERE checked_at < now() - interval '7 days'",
        )
        .await;
    assert_eq!(old, Some(0), "raw results past retention are deleted");
    let id = stack
        .count_all("SELECT id AS n FROM monitor.monitors WHERE name = 'history'")
        .await
        .unwrap();
    let detail = monitor(&stack, &json!(id)).await;
    assert_eq!(detail["uptime"]["24h"], 75.0);
    assert_eq!(detail["uptime"]["7d"], 75.0);
    stack.stop().await;
}
