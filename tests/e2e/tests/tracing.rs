//! One W3C trace from the client's request through the gateway, inventory, the outbox, RabbitMQ
//! and the dispatcher to the webhook POST.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clientstor_e2e::Stack;
use clientstor_testkit::{Receiver, poll_until};
use serde_json::json;

fn trace_id(traceparent: &str) -> String {
    traceparent.split('-').nth(1).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_and_its_webhook_share_one_trace() {
    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "traced", "url": receiver.url("/hook"), "events": ["asset.created"]}),
        )
        .await;
    assert_eq!(hook.status(), 201);

    // The client starts the trace.
    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let created = stack
        .http
        .post(stack.url("/api/v1/assets/"))
        .bearer_auth(&stack.key)
        .header("traceparent", incoming)
        .json(&json!({"name": "traced-1", "asset_type": "server"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let answered = created.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(trace_id(&answered), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(answered, incoming, "the gateway's own span");

    // The gateway starts it.
    let untraced = stack
        .post(
            "/api/v1/assets/",
            json!({"name": "traced-2", "asset_type": "server"}),
        )
        .await;
    let started = trace_id(untraced.headers()["traceparent"].to_str().unwrap());
    assert_ne!(started, "4bf92f3577b34da6a3ce929d0e0e4736");

    poll_until("both webhooks", Duration::from_secs(20), || async {
        (receiver.count() >= 2).then_some(())
    })
    .await;
    let mut seen: Vec<(String, String)> = receiver
        .requests()
        .iter()
        .map(|r| {
            (
                r.json()["data"]["name"].as_str().unwrap().to_string(),
                r.header("traceparent").unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen[0].0, "traced-1");
    assert_eq!(trace_id(&seen[0].1), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(
        !seen[0].1.contains("00f067aa0ba902b7"),
        "each hop has its own span id"
    );
    assert_eq!(trace_id(&seen[1].1), started);
    stack.stop().await;
}

/// With an exporter installed, the spans of every hop share the client's trace id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_spans_of_every_hop_share_the_trace() {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("e2e")))
        .init();

    let stack = Stack::start(false).await;
    let receiver = Receiver::start().await;
    stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "traced", "url": receiver.url("/hook"), "events": ["asset.created"]}),
        )
        .await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let created = stack
        .http
        .post(stack.url("/api/v1/assets/"))
        .bearer_auth(&stack.key)
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .json(&json!({"name": "exported", "asset_type": "server"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let hops = poll_until("every hop's span", Duration::from_secs(20), || async {
        let _ = provider.force_flush();
        let spans = exporter.get_finished_spans().unwrap();
        let mut hops: Vec<String> = spans
            .iter()
            .filter(|s| s.span_context.trace_id().to_string() == trace)
            .map(|s| {
                let service = s
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == "service")
                    .map(|kv| kv.value.to_string())
                    .unwrap_or_default();
                format!("{}:{service}", s.name)
            })
            .collect();
        hops.sort();
        hops.dedup();
        hops.contains(&"webhook:".to_string()).then_some(hops)
    })
    .await;
    for hop in [
        "request:api-gateway",
        "request:inventory",
        "publish:",
        "event:webhooks",
        "webhook:",
    ] {
        assert!(
            hops.contains(&hop.to_string()),
            "{hop} missing from {hops:?}"
        );
    }
    stack.stop().await;
}
