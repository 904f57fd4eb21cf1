//! The OpenAPI document: served whole by the gateway without a key, equal to the committed
//! `docs/openapi.json`, valid OpenAPI 3.1, and covering every route the services and the gateway
//! register (their actix routing tables, probed).
//!
//! After changing a resource, refresh the committed document with
//! `UPDATE_OPENAPI=1 cargo nextest run -p clientstor-e2e --test api_description`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use actix_web::dev::Service as _;
use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use clientstor_e2e::Stack;
use serde_json::Value;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_the_committed_one_and_valid_openapi_3_1() {
    let stack = Stack::start(false).await;
    let served = stack
        .http
        .get(stack.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200, "served without a key");
    let document: Value = served.json().await.unwrap();
    let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &text).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == text,
        "docs/openapi.json differs from what the services describe; refresh it with \
         UPDATE_OPENAPI=1 cargo nextest run -p clientstor-e2e --test api_description"
    );

    // The same document from the parts, without the network: what each binary's `openapi` prints.
    let parts = [
        inventory::definition().openapi_document(),
        vault::definition().openapi_document(),
        monitor_worker::definition().openapi_document(),
        webhook_dispatcher::definition().openapi_document(),
        rmm_sync::definition().openapi_document(),
    ];
    assert_eq!(
        api_gateway::browse::description::document_of(&parts),
        document
    );

    // Every public event is in the webhooks section with a payload schema.
    for (event, _) in clientstor_events::types::PUBLIC {
        let payload = &document["webhooks"][*event]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert!(payload.is_object(), "webhook {event} has no payload schema");
    }
    // Every error answer has the error shape or the validation shape.
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["tags"].is_array(),
                "{method} {path} has no resource tag"
            );
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') {
                    let schema = response["content"]["application/json"]["schema"]["$ref"].as_str();
                    assert!(
                        matches!(
                            schema,
                            Some("#/components/schemas/Error" | "#/components/schemas/Invalid")
                        ),
                        "{method} {path} {status}: {response}"
                    );
                }
            }
        }
    }

    // What a list says of `ordering` is what it does: every named field orders it, both ways,
    // and another is refused; a list that names none ignores the parameter.
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(list) = item.get("get").filter(|_| !path.contains('{')) else {
            continue;
        };
        let takes_ordering = list["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "ordering");
        if !takes_ordering {
            continue;
        }
        let fields: Vec<&str> = list["x-ordering-fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for field in &fields {
            for ordering in [field.to_string(), format!("-{field}")] {
                let status = stack
                    .get(&format!("{path}?ordering={ordering}"))
                    .await
                    .status();
                assert_eq!(status, 200, "{path}?ordering={ordering}");
            }
        }
        let refused = stack.get(&format!("{path}?ordering=no_such_field")).await;
        let expected = if fields.is_empty() { 200 } else { 400 };
        assert_eq!(refused.status(), expected, "{path}?ordering=no_such_field");
    }

    let validator = std::env::var("CLIENTSTOR_TEST_OPENAPI_VALIDATOR")
        .expect("CLIENTSTOR_TEST_OPENAPI_VALIDATOR: run through `make test` (scripts/tools.sh)");
    let output = std::process::Command::new(&validator)
        .arg(committed_path())
        .output()
        .expect("openapi-spec-validator runs");
    assert!(
        output.status.success(),
        "not valid OpenAPI 3.1: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    stack.stop().await;
}

type Configure = fn(&mut web::ServiceConfig);

/// Marks what no route took, so that probing tells routed from unrouted.
async fn unrouted(req: HttpRequest) -> HttpResponse {
    // The resource tree of the whole app, for the candidate patterns.
    let tree = format!("{:?}", req.resource_map());
    HttpResponse::NotFound()
        .insert_header(("x-unrouted", "1"))
        .body(tree)
}

/// `(METHOD, /path/{}/)` of every route `configure` registers: the patterns come from the app's
/// resource tree, and each method is probed (actix answers 405 with no body for a method a
/// resource lacks). Handlers stop at their extractors: the app has no state.
async fn routing_table(configure: Configure) -> BTreeSet<(String, String)> {
    let app = test::init_service(
        App::new()
            .configure(configure)
            .default_service(web::to(unrouted)),
    )
    .await;
    let tree = {
        let response = app
            .call(test::TestRequest::with_uri("/__nothing__").to_request())
            .await
            .unwrap();
        String::from_utf8(test::read_body(response).await.to_vec()).unwrap()
    };
    let mut patterns = BTreeSet::new();
    for piece in tree.split('"') {
        // `/api/<resource>/` aliases of the gateway's own routes are the same operations.
        if piece.starts_with("/api/v1/") && !piece.contains(['^', '(', '$', '\\']) {
            patterns.insert(piece.to_string());
        }
    }
    let mut table = BTreeSet::new();
    for pattern in patterns {
        let concrete: String = pattern
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let request = test::TestRequest::default()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&concrete)
                .to_request();
            let response = app.call(request).await.unwrap();
            let status = response.status();
            if response.headers().contains_key("x-unrouted") {
                continue;
            }
            let body = test::read_body(response).await;
            if status == 405 && body.is_empty() {
                continue;
            }
            table.insert((method.to_string(), normalise(&pattern)));
        }
    }
    table
}

/// `/api/v1/x/{record_id}` → `/api/v1/x/{}/`: parameter names and the trailing slash aside.
fn normalise(path: &str) -> String {
    let mut path: String = path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    if !path.ends_with('/') {
        path.push('/');
    }
    path
}

fn described(document: &Value) -> BTreeSet<(String, String)> {
    clientstor_runtime::openapi::operations(document)
        .into_iter()
        .map(|(method, path)| (method, normalise(&path)))
        .collect()
}

#[tokio::test]
async fn every_routed_endpoint_is_in_the_document_and_nothing_more() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path()).unwrap()).unwrap();
    let services: [(&str, Configure); 6] = [
        ("api-gateway", api_gateway::routes::configure),
        ("inventory", inventory::definition().routes),
        ("vault", vault::definition().routes),
        ("monitor-worker", monitor_worker::definition().routes),
        (
            "webhook-dispatcher",
            webhook_dispatcher::definition().routes,
        ),
        ("rmm-sync", rmm_sync::definition().routes),
    ];
    let mut routed = BTreeSet::new();
    for (name, configure) in services {
        let table = routing_table(configure).await;
        assert!(table.len() > 2, "{name}: only {table:?}");
        routed.extend(table);
    }
    let documented = described(&committed);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "in docs/openapi.json but routed nowhere: {unrouted:?}"
    );
}
