//! Identity at the edge: roles and ceilings, revocation and expiry, reach, rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use clientstor_e2e::{Stack, admin};
use clientstor_testkit::poll_until;
use serde_json::{Value, json};

async fn status(response: reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn member(stack: &Stack, email: &str, org: &str, role: &str) {
    admin(&stack.gateway, &["user", "create", "--email", email]).await;
    admin(
        &stack.gateway,
        &[
            "membership",
            "create",
            "--user",
            email,
            "--org",
            org,
            "--role",
            role,
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_gets_what_the_permission_table_says() {
    let stack = Stack::start(false).await;
    for role in ["admin", "editor", "readonly"] {
        member(&stack, &format!("{role}@acme.test"), "acme-corp", role).await;
    }
    let admin_key = stack
        .key_for("admin@acme.test", "acme-corp", &["--role", "admin"])
        .await;
    let editor = stack
        .key_for("editor@acme.test", "acme-corp", &["--role", "editor"])
        .await;
    let readonly = stack
        .key_for("readonly@acme.test", "acme-corp", &["--role", "readonly"])
        .await;
    // An owner's key held to a read-only ceiling.
    let capped = stack
        .key_for("owner@acme.test", "acme-corp", &["--role", "readonly"])
        .await;
    let asset = json!({"name": "sw", "asset_type": "switch"});
    let hook = json!({"name": "h", "url": "http://127.0.0.1:9/hook", "events": ["*"]});

    // (key, create/edit assets, delete assets, manage webhooks)
    let matrix = [
        (&admin_key, true, true, true),
        (&editor, true, false, false),
        (&readonly, false, false, false),
        (&capped, false, false, false),
        (&stack.key, true, true, true),
    ];
    for (key, can_write, can_delete, can_manage_webhooks) in matrix {
        let expect = |allowed: bool, ok: u16| if allowed { ok } else { 403 };
        assert_eq!(
            status(stack.get_as(key, "/api/v1/assets/").await).await,
            200
        );
        assert_eq!(
            status(stack.get_as(key, "/api/v1/webhooks/").await).await,
            200
        );
        assert_eq!(
            status(stack.post_as(key, "/api/v1/assets/", asset.clone()).await).await,
            expect(can_write, 201)
        );
        assert_eq!(
            status(stack.post_as(key, "/api/v1/webhooks/", hook.clone()).await).await,
            expect(can_manage_webhooks, 201)
        );
        // Records made by the owner for this key to act on.
        let target: Value = stack
            .post("/api/v1/assets/", asset.clone())
            .await
            .json()
            .await
            .unwrap();
        let target_hook: Value = stack
            .post("/api/v1/webhooks/", hook.clone())
            .await
            .json()
            .await
            .unwrap();
        let asset_url = stack.url(&format!("/api/v1/assets/{}/", target["id"]));
        let hook_url = stack.url(&format!("/api/v1/webhooks/{}/", target_hook["id"]));
        let send = |request: reqwest::RequestBuilder| async move {
            request
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(
            send(
                stack
                    .http
                    .patch(&asset_url)
                    .json(&json!({"name": "renamed"}))
            )
            .await,
            expect(can_write, 200)
        );
        assert_eq!(
            send(
                stack
                    .http
                    .put(&asset_url)
                    .json(&json!({"name": "replaced", "asset_type": "router"}))
            )
            .await,
            expect(can_write, 200)
        );
        assert_eq!(
            send(stack.http.delete(&asset_url)).await,
            expect(can_delete, 204)
        );
        assert_eq!(
            send(
                stack
                    .http
                    .patch(&hook_url)
                    .json(&json!({"is_active": false}))
            )
            .await,
            expect(can_manage_webhooks, 200)
        );
        assert_eq!(
            send(stack.http.delete(&hook_url)).await,
            expect(can_manage_webhooks, 204)
        );
    }
    // A key cannot be given more than its creator holds.
    let escalate = stack
        .post_as(
            &editor,
            "/api/v1/api-keys/",
            json!({"name": "x", "role": "owner"}),
        )
        .await;
    assert_eq!(escalate.status(), 400);

    let permissions: Value = stack
        .get("/api/v1/permissions/?page_size=200")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(permissions["count"], 31);
    let names: Vec<&str> = permissions["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"vault_view_password") && names.contains(&"org_manage_settings"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_and_expiry_reach_every_gateway() {
    let stack = Stack::start(false).await;
    let other = stack.second_gateway(&[]).await;
    let other_url = format!("http://{}/api/v1/assets/", other.addr);
    let created: Value = stack
        .post(
            "/api/v1/api-keys/",
            json!({"name": "script", "scope": "single"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    let on_other = || async {
        stack
            .http
            .get(&other_url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        on_other().await,
        200,
        "the second gateway accepts the key (and caches it)"
    );

    let listed: Value = stack.get("/api/v1/api-keys/").await.json().await.unwrap();
    assert!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("key").is_none() && k.get("key_hash").is_none())
    );

    let revoke = stack
        .http
        .delete(stack.url(&format!("/api/v1/api-keys/{id}/")))
        .bearer_auth(&stack.key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let revoked_at = Instant::now();
    poll_until(
        "the second gateway to refuse the revoked key",
        Duration::from_secs(10),
        || async { (on_other().await == 401).then_some(()) },
    )
    .await;
    let delay = revoked_at.elapsed();
    println!("revocation reached the second gateway after {delay:?}");
    assert_eq!(
        status(stack.get_as(&key, "/api/v1/assets/").await).await,
        401
    );

    let expires_at = (chrono_now() + 2).to_string();
    let short: Value = stack
        .post(
            "/api/v1/api-keys/",
            json!({"name": "short", "expires_at": rfc3339(expires_at.parse().unwrap())}),
        )
        .await
        .json()
        .await
        .unwrap();
    let short_key = short["key"].as_str().unwrap().to_string();
    assert_eq!(
        status(stack.get_as(&short_key, "/api/v1/assets/").await).await,
        200
    );
    poll_until("the key to expire", Duration::from_secs(15), || async {
        let response = stack.get_as(&short_key, "/api/v1/assets/").await;
        (response.status() == 401).then_some(())
    })
    .await;
    other.stop().await;
    stack.stop().await;
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Unix seconds as RFC 3339 UTC, without a date library.
fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reach_follows_scope_and_the_organization_tree() {
    let stack = Stack::start(false).await;
    admin(
        &stack.gateway,
        &[
            "org",
            "create",
            "--name",
            "Acme Child",
            "--parent",
            "acme-corp",
        ],
    )
    .await;
    admin(&stack.gateway, &["org", "create", "--name", "Other Co"]).await;
    member(&stack, "tech@acme.test", "acme-corp", "editor").await;
    admin(
        &stack.gateway,
        &[
            "membership",
            "create",
            "--user",
            "tech@acme.test",
            "--org",
            "other-co",
            "--role",
            "editor",
        ],
    )
    .await;
    let single = stack
        .key_for(
            "tech@acme.test",
            "acme-corp",
            &["--scope", "single", "--role", "editor"],
        )
        .await;
    let descendants = stack
        .key_for(
            "tech@acme.test",
            "acme-corp",
            &["--scope", "descendants", "--role", "editor"],
        )
        .await;
    let all = stack
        .key_for(
            "tech@acme.test",
            "acme-corp",
            &["--scope", "all", "--role", "editor"],
        )
        .await;

    let count = |key: String, path: &'static str| {
        let stack = &stack;
        async move {
            let body: Value = stack.get_as(&key, path).await.json().await.unwrap();
            body["count"].as_i64().unwrap()
        }
    };
    assert_eq!(count(single.clone(), "/api/v1/organizations/").await, 1);
    assert_eq!(
        count(descendants.clone(), "/api/v1/organizations/").await,
        2,
        "the child is reached through the parent"
    );
    assert_eq!(count(all.clone(), "/api/v1/organizations/").await, 3);
    assert_eq!(
        count(
            descendants.clone(),
            "/api/v1/organizations/?organization=acme-child"
        )
        .await,
        1
    );
    assert_eq!(
        status(
            stack
                .get_as(&descendants, "/api/v1/assets/?organization=other-co")
                .await
        )
        .await,
        403
    );

    let created = stack
        .post_as(
            &descendants,
            "/api/v1/assets/?organization=acme-child",
            json!({"name": "child-fw", "asset_type": "firewall"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let asset: Value = created.json().await.unwrap();
    let child: Value = stack
        .get_as(&all, "/api/v1/organizations/?search=child")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        asset["organization"], child["results"][0]["id"],
        "?organization= chose where the asset went"
    );
    let path = format!("/api/v1/assets/{}/", asset["id"]);
    assert_eq!(
        status(stack.get_as(&single, &path).await).await,
        404,
        "out of reach is not found"
    );
    assert_eq!(status(stack.get_as(&descendants, &path).await).await, 200);
    assert_eq!(
        count(all.clone(), "/api/v1/assets/?organization=all").await,
        1
    );
    assert_eq!(count(single.clone(), "/api/v1/assets/").await, 0);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_two_gateways_sharing_redis() {
    let stack = Stack::start(false).await;
    let namespace = format!("cstest-{}", stack.env.bus.exchange);
    let redis = [
        ("gateway.rate_limit.redis_url", "redis://127.0.0.1:6379"),
        ("gateway.rate_limit.namespace", namespace.as_str()),
    ];
    let first = stack.second_gateway(&redis).await;
    let second = stack.second_gateway(&redis).await;
    let created: Value = stack
        .post(
            "/api/v1/api-keys/",
            json!({"name": "limited", "rate_limit_per_minute": 5, "rate_limit_burst": 5}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let (mut admitted, mut refused) = (0, 0);
    for i in 0..12 {
        let addr = if i % 2 == 0 { first.addr } else { second.addr };
        let response = stack
            .http
            .get(format!("http://{addr}/api/v1/assets/"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => {
                admitted += 1;
                assert_eq!(response.headers()["x-ratelimit-limit"], "5");
                assert!(response.headers().contains_key("ratelimit-policy"));
                assert!(
                    response.headers()["ratelimit"]
                        .to_str()
                        .unwrap()
                        .starts_with("\"key\";r=")
                );
            }
            429 => {
                refused += 1;
                let retry: u64 = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&retry), "Retry-After {retry}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "throttled");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        (admitted, refused),
        (5, 7),
        "five admitted across both gateways, the rest refused"
    );
    first.stop().await;
    second.stop().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_material_stays_out_of_rows_logs_and_error_bodies() {
    // Every log line of the services in this process, at debug level, into a buffer.
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(move || writer.clone())
        .init();
    let stack = Stack::start(false).await;
    let created: Value = stack
        .post("/api/v1/api-keys/", json!({"name": "scan me"}))
        .await
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let secret = &key["itdocs_live_".len() + 12..];
    for table in [
        "gateway.api_keys",
        "gateway.users",
        "gateway.organizations",
        "gateway.memberships",
    ] {
        let sql = format!(
            "SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%{secret}%' OR t::text LIKE '%{key}%'"
        );
        assert_eq!(
            stack.count_all(&sql).await,
            Some(0),
            "{table} holds key material"
        );
    }
    let sql = format!(
        "SELECT count(*) AS n FROM gateway.outbox WHERE position('{secret}'::bytea in payload) > 0"
    );
    assert_eq!(stack.count_all(&sql).await, Some(0));
    // A wrong key is not echoed back.
    let mut wrong = key.clone();
    wrong.replace_range(20..21, if &key[20..21] == "a" { "b" } else { "a" });
    let response = stack.get_as(&wrong, "/api/v1/assets/").await;
    assert_eq!(response.status(), 401);
    let body = response.text().await.unwrap();
    assert!(
        !body.contains(&wrong[12..]) && !body.contains(secret),
        "{body}"
    );
    assert_eq!(
        status(stack.get_as(&key, "/api/v1/assets/").await).await,
        200
    );
    let lines = logs.text();
    assert!(
        lines.contains("authentication failed"),
        "the logs were captured"
    );
    assert!(
        !lines.contains(secret) && !lines.contains(&wrong[12..]),
        "key material in the logs"
    );
    assert!(!lines.contains(&stack.env.internal_secret) && !lines.contains(&stack.env.key_pepper));
    stack.stop().await;
}

#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_role_allows_exactly_its_permissions_and_changes_are_audited() {
    let stack = Stack::start(false).await;
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "h", "url": "http://127.0.0.1:9/hook", "events": ["*"]}),
        )
        .await;
    assert_eq!(hook.status(), 201);
    let role = stack
        .post("/api/v1/roles/", json!({"name": "Asset clerk", "permissions": ["assets_view", "assets_create"], "organization": stack.org_id}))
        .await;
    assert_eq!(role.status(), 201);
    let role: Value = role.json().await.unwrap();
    let bad = stack
        .post(
            "/api/v1/roles/",
            json!({"name": "x", "permissions": ["launch_missiles"], "organization": stack.org_id}),
        )
        .await;
    assert_eq!(bad.status(), 400);

    let invited = stack
        .post(
            "/api/v1/users/",
            json!({"email": "clerk@acme.test", "role": "readonly"}),
        )
        .await;
    assert_eq!(invited.status(), 201);
    let user: Value = invited.json().await.unwrap();
    let memberships: Value = stack
        .get(&format!("/api/v1/memberships/?user={}", user["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(memberships["count"], 1);
    let membership_id = memberships["results"][0]["id"].as_i64().unwrap();
    let patched = stack
        .http
        .patch(stack.url(&format!("/api/v1/memberships/{membership_id}/")))
        .bearer_auth(&stack.key)
        .json(&json!({"custom_role": role["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    let clerk = stack
        .key_for("clerk@acme.test", "acme-corp", &["--role", "owner"])
        .await;
    assert_eq!(
        status(
            stack
                .post_as(
                    &clerk,
                    "/api/v1/assets/",
                    json!({"name": "a", "asset_type": "other"})
                )
                .await
        )
        .await,
        201
    );
    assert_eq!(
        status(stack.get_as(&clerk, "/api/v1/assets/").await).await,
        200
    );
    let hooks: Value = stack
        .get_as(&clerk, "/api/v1/webhooks/")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hooks["count"], 0, "webhooks_view is not in the role");
    assert_eq!(
        status(
            stack
                .post_as(
                    &clerk,
                    "/api/v1/webhooks/",
                    json!({"name": "h", "url": "http://127.0.0.1:9/", "events": ["*"]})
                )
                .await
        )
        .await,
        403
    );
    // The same role under a read-only ceiling keeps only what both allow.
    let capped = stack
        .key_for("clerk@acme.test", "acme-corp", &["--role", "readonly"])
        .await;
    assert_eq!(
        status(
            stack
                .post_as(
                    &capped,
                    "/api/v1/assets/",
                    json!({"name": "b", "asset_type": "other"})
                )
                .await
        )
        .await,
        403
    );
    assert_eq!(
        status(stack.get_as(&capped, "/api/v1/assets/").await).await,
        200
    );
    assert_eq!(
        status(stack.get_as(&clerk, "/api/v1/audit-log/").await).await,
        403
    );

    assert_eq!(
        status(
            stack
                .get_as("itdocs_live_not-a-key", "/api/v1/assets/")
                .await
        )
        .await,
        401
    );
    for action in ["role.created", "membership.created", "membership.updated"] {
        poll_until(action, Duration::from_secs(10), || async {
            let body: Value = stack
                .get(&format!("/api/v1/audit-log/?action={action}"))
                .await
                .json()
                .await
                .ok()?;
            (body["count"].as_i64()? >= 1).then_some(())
        })
        .await;
    }
    poll_until(
        "the failed authentication in the audit log",
        Duration::from_secs(10),
        || stack.count("SELECT count(*) AS n FROM gateway.audit_log WHERE action = 'auth.failed'"),
    )
    .await;
    let in_use = stack
        .http
        .delete(stack.url(&format!("/api/v1/roles/{}/", role["id"])))
        .bearer_auth(&stack.key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        in_use.status(),
        409,
        "a role still held by a membership is not deleted"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_paged_as_one_list_with_the_built_in_ones_first() {
    let stack = Stack::start(false).await;
    for i in 0..3 {
        let role = stack
            .post(
                "/api/v1/roles/",
                json!({"name": format!("custom-{i}"), "permissions": ["assets_view"], "organization": stack.org_id}),
            )
            .await;
        assert_eq!(role.status(), 201);
    }
    let mut names = Vec::new();
    for page in 1..=4 {
        let body: Value = stack
            .get(&format!("/api/v1/roles/?page_size=2&page={page}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["count"], 7, "page {page}: {body}");
        assert_eq!(body["next"].is_null(), page == 4, "page {page}: {body}");
        for role in body["results"].as_array().unwrap() {
            names.push(role["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        names,
        [
            "owner", "admin", "editor", "readonly", "custom-0", "custom-1", "custom-2"
        ]
    );
    assert_eq!(
        stack
            .get("/api/v1/roles/?page_size=2&page=5")
            .await
            .status(),
        404
    );
    stack.stop().await;
}
