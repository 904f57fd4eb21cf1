//! Bad input against every endpoint: requests generated from the OpenAPI document by
//! schemathesis (zero 5xx; every answer as documented, errors in the error shape), and the
//! classic abuses by hand: bodies over the limit, malformed JSON, wrong content types, huge
//! `page_size`, SQL metacharacters and Unicode in `search`, header injection in webhook headers.
//!
//! The schemathesis run is short in `make test` (`RELIABILITY_EXAMPLES`, 3 per operation);
//! `make reliability` runs it with 50. Rate limits are raised: they are not what is tested here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use clientstor_e2e::Stack;
use serde_json::{Value, json};

const RAISED_LIMITS: &[(&str, &str)] = &[
    ("gateway.rate_limit.per_minute", "100000000"),
    ("gateway.rate_limit.org_per_minute", "100000000"),
    ("vault.reveal_limit_per_hour", "100000000"),
    ("gateway.rate_limit.auth_failures_per_minute", "100000000"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_no_5xx_and_only_documented_answers() {
    let stack = Stack::start_with(RAISED_LIMITS).await;
    let validator = std::env::var("CLIENTSTOR_TEST_OPENAPI_VALIDATOR")
        .expect("CLIENTSTOR_TEST_OPENAPI_VALIDATOR: run through `make test` (scripts/tools.sh)");
    let schemathesis = PathBuf::from(validator).with_file_name("schemathesis");
    let examples = std::env::var("RELIABILITY_EXAMPLES").unwrap_or_else(|_| "3".into());
    let reports = root().join("target/schemathesis");
    std::fs::create_dir_all(&reports).unwrap();
    let output = tokio::process::Command::new(&schemathesis)
        // Its own cache goes with the reports, not into the source tree.
        .current_dir(&reports)
        .arg("run")
        .arg(root().join("docs/openapi.json"))
        .args(["--url", &format!("http://{}", stack.gateway.addr)])
        .args(["--header", &format!("Authorization: Bearer {}", stack.key)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        // The fuzzer would revoke its own key, drop its own membership or deactivate its own
        // organization and then only see 401s; those records are tried by the other tests.
        .args([
            "--exclude-path-regex",
            r"^/api/v1/(api-keys|memberships|organizations)/\{id\}/$",
        ])
        .args(["--max-examples", &examples])
        .args(["--seed", "20261128"])
        // One worker: the generator's own parsing is not thread-safe on every Python.
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--generation-with-security-parameters", "false"])
        .args(["--request-timeout", "30"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&reports)
        // More arguments for a closer look, e.g. `--include-path /api/v1/assets/ --no-shrink`.
        .args(
            std::env::var("RELIABILITY_SCHEMATHESIS_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
    // It really ran: every operation of the document was exercised.
    let line = |start: &str| {
        stdout
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(start))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        !stdout.contains("401 Unauthorized ("),
        "the run lost its key:\n{stdout}"
    );
    let (tested, cases) = (
        line("Tested:"),
        // The figures are on the line under the heading.
        stdout
            .lines()
            .map(str::trim)
            .skip_while(|line| *line != "Test cases:")
            .nth(1)
            .unwrap_or_default()
            .to_string(),
    );
    println!("schemathesis: operations {tested}; cases {cases}");
    assert!(
        !tested.is_empty() && cases.contains("generated"),
        "no summary in:\n{stdout}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_requests_are_refused_in_the_error_shape_and_change_nothing() {
    let stack = Stack::start_with(RAISED_LIMITS).await;
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("docs/openapi.json")).unwrap())
            .unwrap();
    let error_shaped = |body: &Value| {
        body["detail"].is_string() && body["code"].is_string() && body["request_id"].is_string()
    };
    let assets_before = stack
        .count("SELECT count(*) AS n FROM inventory.assets")
        .await;

    // Every top-level list: odd searches and a huge page_size are answered, never a 5xx.
    let lists: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, item)| !path.contains('{') && item["get"]["parameters"].is_array())
        .filter(|(_, item)| {
            item["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "page_size")
        })
        .map(|(path, _)| path.clone())
        .collect();
    assert!(lists.len() >= 10, "{lists:?}");
    let searches = [
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
        "a%'; DROP TABLE assets; --",
        "ünïcødé 漢字 🚀",
        "\u{0}",
        "((((",
    ];
    for path in &lists {
        for search in searches {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("search", search)
                .finish();
            let response = stack
                .http
                .get(format!("{}?{query}", stack.url(path)))
                .bearer_auth(&stack.key)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(
                status == 200 || status == 400,
                "{path}?search={search:?}: {status}"
            );
        }
        let huge = stack.get(&format!("{path}?page_size=100000000000")).await;
        assert_eq!(huge.status(), 200, "{path} huge page_size");
    }

    // Every create: malformed JSON, the wrong content type, an oversized body.
    let creates: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, item)| !path.contains('{') && item["post"]["requestBody"].is_object())
        .map(|(path, _)| path.clone())
        .collect();
    assert!(creates.len() >= 6, "{creates:?}");
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(11 * 1024 * 1024));
    for path in &creates {
        for (content_type, body, expected) in [
            ("application/json", "{\"name\": ", 400),
            ("application/json", "[1, 2", 400),
            ("text/plain", "{\"name\": \"x\"}", 400),
            ("application/x-www-form-urlencoded", "name=x", 400),
            ("application/json", big.as_str(), 413),
        ] {
            let response = stack
                .http
                .post(stack.url(path))
                .bearer_auth(&stack.key)
                .header("content-type", content_type)
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            assert_eq!(status, expected, "{path} {content_type}: {status} {answer}");
            assert!(
                error_shaped(&answer) || (status == 400 && answer.is_object()),
                "{path} {content_type}: {answer}"
            );
        }
    }
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM inventory.assets")
            .await,
        assets_before,
        "nothing was created"
    );

    // Header injection through a webhook's custom headers.
    for headers in [
        json!({ "X-Ok": "fine\r\nX-Injected: yes" }),
        json!({ "X-Bad\r\nName": "v" }),
        json!({ "Bad Name": "v" }),
        json!({ "X-Ok": "line\nbreak" }),
        json!({ "webhook-signature": "v1,forged" }),
        json!({ "Content-Length": "0" }),
    ] {
        let response = stack
            .post(
                "/api/v1/webhooks/",
                json!({ "name": "inject", "url": "http://127.0.0.1:9/h", "events": ["asset.created"],
                        "custom_headers": headers }),
            )
            .await;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 400, "{headers}: {answer}");
        assert!(answer["custom_headers"].is_array(), "{headers}: {answer}");
    }
    let webhooks: Value = stack.get("/api/v1/webhooks/").await.json().await.unwrap();
    assert_eq!(webhooks["count"], 0, "no webhook was made");
    stack.stop().await;
}
