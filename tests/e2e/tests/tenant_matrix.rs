//! Tenant isolation across the whole API, driven by the committed OpenAPI document
//! (`docs/openapi.json`). Organization A is the stack's own ("Acme Corp", its owner's key);
//! organization B ("Globex Inc") is a separate top-level organization with its own user, owner
//! of B only, and an owner key of B with scope `all`.
//!
//! 1. A gets at least one record of every resource the document has path parameters for, each
//!    create checked; B gets records of its own, under which B reads the nested lists.
//! 2. Every operation of the document whose path has parameters (every method) is called with
//!    B's key and A's ids, writes with a valid-looking body; nested records are also tried under
//!    B's own parent (`/vehicles/{B's}/maintenance/{A's}/`). Never a 2xx: always 404 or 403 in
//!    the error shape `{detail, code, request_id}`. A template the id maps cannot fill fails the
//!    test by name, so a new endpoint must be added to the matrix. `?reveal=true` on A's
//!    password with B's key is a 404. The CVE feed sync is the one record no organization owns
//!    (`PLATFORM_WIDE`): B may read it, but nothing of A's may show in it.
//! 3. Every list (top-level, and nested under B's own records) with B's key: `?organization=`
//!    naming A by id or by slug is a 403 in the error shape; without it, no record of A is
//!    listed (ids, organization fields, names).
//! 4. With A's key afterwards: every readable operation answers what it answered before, no
//!    delivery was queued again, nothing of A was revealed to B's user, the webhook's secret is
//!    the one it was created with, and the RMM integration has only the run A started.
//!
//! Rate limits are not what is tested here: the stack starts with
//! `Stack::start_with(&[("gateway.rate_limit.per_minute", "100000000"),
//! ("gateway.rate_limit.org_per_minute", "100000000"), ("vault.reveal_limit_per_hour",
//! "100000000")])`, plus a local CVE feed and a local Pwned Passwords server so that the feed
//! sync and the breach scan finish without leaving the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use clientstor_e2e::{Stack, admin};
use clientstor_testkit::feeds::{FeedServer, nvd_item};
use clientstor_testkit::{PwnedServer, poll_until};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::Method;
use serde_json::{Value, json};

const RAISED_LIMITS: [(&str, &str); 3] = [
    ("gateway.rate_limit.per_minute", "100000000"),
    ("gateway.rate_limit.org_per_minute", "100000000"),
    ("vault.reveal_limit_per_hour", "100000000"),
];

/// In the name or title of every record of A, so that a list showing one is caught by its text.
const A_MARK: &str = "acmeonly";
const A_SLUG: &str = "acme-corp";
const B_MARK: &str = "globex";
const B_NAME: &str = "Globex Inc";
const B_SLUG: &str = "globex-inc";
const B_EMAIL: &str = "owner@globex.test";

/// Operations on records that belong to no organization: the CVE feed sync is one for the whole
/// platform (a sync started by anyone is the one everybody polls). B may read it; what it answers
/// must carry nothing of A's.
const PLATFORM_WIDE: &[&str] = &["/api/v1/vulnerabilities/feed-sync/{id}/"];

/// Fields that change on their own between two readings by A: its own key's last use.
const VOLATILE: &[&str] = &["last_used_at", "last_used_ip"];

/// Parameter positions of the document's paths (`/api/v1/vehicles/{id}`,
/// `/api/v1/vehicles/{id}/fuel-logs/{record_id}`, …) to one organization's ids there; the first
/// id of a position fills the templates.
type Ids = BTreeMap<String, Vec<i64>>;

fn add(ids: &mut Ids, position: &str, id: i64) {
    ids.entry(format!("/api/v1/{position}"))
        .or_default()
        .push(id);
}

// The document.

fn document() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every `(method, path template)` of the document.
fn operations(document: &Value) -> Vec<(Method, String)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                all.push((method, path.clone()));
            }
        }
    }
    all
}

/// The parameter positions of a template, outermost first.
fn positions(template: &str) -> Vec<String> {
    let segments: Vec<&str> = template.split('/').collect();
    (0..segments.len())
        .filter(|i| segments[*i].starts_with('{'))
        .map(|i| segments[..=i].join("/"))
        .collect()
}

/// The template with each parameter replaced by the first id of its position, or the first
/// position the map has no id for.
fn fill(template: &str, ids: &Ids) -> Result<String, String> {
    let mut path = template.to_string();
    for position in positions(template).iter().rev() {
        let id = ids
            .get(position)
            .and_then(|ids| ids.iter().next())
            .ok_or_else(|| position.clone())?;
        let parameter = position.rsplit('/').next().unwrap_or_default();
        let at = position.len() - parameter.len();
        path.replace_range(at..position.len(), &id.to_string());
    }
    Ok(path)
}

fn takes_query(operation: &Value, name: &str) -> bool {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == name && p["in"] == "query")
}

/// A list: paged, or answered as an array.
fn is_list(operation: &Value) -> bool {
    let schema = &operation["responses"]["200"]["content"]["application/json"]["schema"];
    takes_query(operation, "page") || schema["type"] == "array"
}

/// The path a list is read at: the largest page when it is paged.
fn list_path(path: &str, operation: &Value) -> String {
    if takes_query(operation, "page_size") {
        format!("{path}?page_size=200")
    } else {
        path.to_string()
    }
}

/// A body the operation would accept from a caller allowed to use it.
fn body_for(method: &Method, template: &str) -> Option<Value> {
    if *method == Method::GET || *method == Method::DELETE {
        return None;
    }
    Some(match template.trim_start_matches("/api/v1/") {
        "assets/{id}/" => json!({"name": "taken by B", "asset_type": "server"}),
        "assets/{id}/software/" => json!([{"name": "Planted by B", "version": "1.0"}]),
        "integrations/rmm/{id}/" => json!({
            "name": "taken by B", "provider": "ninjaone", "base_url": "http://127.0.0.1:9",
            "credentials": {"client_id": "b", "client_secret": "b"}, "enabled": true
        }),
        "memberships/{id}/" => json!({"role": "owner"}),
        "monitors/{id}/" => json!({
            "name": "taken by B", "monitor_type": "http", "url": "http://127.0.0.1:9/",
            "is_paused": false
        }),
        "organizations/{id}/" => json!({"name": "Taken by B"}),
        "passwords/{id}/" => json!({"title": "taken by B", "password": "chosen-by-b"}),
        "roles/{id}/" => json!({"name": "taken by B", "permissions": ["org_manage_members"]}),
        "vehicles/{id}/" => json!({"name": "taken by B"}),
        "vehicles/{id}/fuel-logs/" | "vehicles/{id}/fuel-logs/{record_id}/" => {
            json!({"date": "2026-01-02", "mileage": 99999, "gallons": "1"})
        }
        "vehicles/{id}/maintenance/" | "vehicles/{id}/maintenance/{record_id}/" => {
            json!({"maintenance_type": "oil_change", "service_date": "2026-01-02"})
        }
        "vulnerabilities/{id}/" => json!({"status": "ignored", "ignored_reason": "B says so"}),
        "webhooks/{id}/" => json!({
            "name": "taken by B", "url": "http://127.0.0.1:9/b", "events": ["*"],
            "is_active": true
        }),
        "webhooks/{id}/recover/" => json!({"since": "2000-01-01T00:00:00Z"}),
        "webhooks/{id}/rotate-secret/" => json!({"secret": "chosen-by-organization-b-0123456789"}),
        _ => json!({}),
    })
}

// Requests.

struct Answer {
    status: u16,
    body: Value,
    text: String,
}

impl Answer {
    fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn error_shaped(&self) -> bool {
        self.body["detail"].is_string()
            && self.body["code"].is_string()
            && self.body["request_id"].is_string()
    }

    /// The records of a list answer (a page or an array).
    fn items(&self) -> Vec<Value> {
        match &self.body {
            Value::Array(items) => items.clone(),
            body => body["results"].as_array().cloned().unwrap_or_default(),
        }
    }
}

async fn call(
    stack: &Stack,
    key: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let mut request = stack.http.request(method, stack.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, body, text }
}

/// The body of a 2xx answer; anything else stops the test, naming the request.
async fn ok(stack: &Stack, key: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let name = format!("{method} {path}");
    let answer = call(stack, key, method, path, body.as_ref()).await;
    assert!(
        answer.success(),
        "seeding {name}: {} {}",
        answer.status,
        answer.text
    );
    answer.body
}

async fn post(stack: &Stack, key: &str, path: &str, body: Value) -> Value {
    ok(stack, key, Method::POST, path, Some(body)).await
}

async fn get(stack: &Stack, key: &str, path: &str) -> Value {
    ok(stack, key, Method::GET, path, None).await
}

fn id(record: &Value) -> i64 {
    record["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {record}"))
}

// The database, for what the API does not show (secrets, queues).

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count_on(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

async fn count(stack: &Stack, sql: &str) -> i64 {
    stack.count_all(sql).await.unwrap()
}

/// Waits until the query counts exactly `n`.
async fn until_count(stack: &Stack, what: &str, sql: &str, n: i64) {
    poll_until(what, Duration::from_secs(60), || async move {
        (stack.count_all(sql).await? == n).then_some(())
    })
    .await;
}

// Seeding.

/// What one organization holds: its ids by parameter position, and what step 4 checks.
struct Seeded {
    ids: Ids,
    hook: i64,
    secret: String,
    asset: i64,
    integration: i64,
    run: i64,
}

/// A record of each resource a key makes in its home organization: a webhook and the delivery
/// of an asset's creation, an asset with software, a vehicle with a maintenance record and a
/// fuel log, a password with an OTP secret, a paused monitor, an RMM integration and a run of
/// it. `mark` goes into every name.
async fn seed(stack: &Stack, key: &str, mark: &str) -> Seeded {
    let mut ids = Ids::new();
    // The webhook first, so that the asset's creation is delivered to it.
    let hook = post(
        stack,
        key,
        "/api/v1/webhooks/",
        json!({"name": format!("{mark} hook"), "url": "http://127.0.0.1:9/h",
               "events": ["asset.created"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    add(&mut ids, "webhooks/{id}", id(&hook));

    let asset = post(
        stack,
        key,
        "/api/v1/assets/",
        json!({"name": format!("{mark} server"), "asset_type": "server",
               "hostname": format!("{mark}-srv")}),
    )
    .await;
    add(&mut ids, "assets/{id}", id(&asset));
    ok(
        stack,
        key,
        Method::PUT,
        &format!("/api/v1/assets/{}/software/", id(&asset)),
        Some(
            json!([{"name": "Widget", "vendor": "Example", "version": "4.1.0"},
                    {"name": format!("{mark} agent"), "version": "1.0"}]),
        ),
    )
    .await;
    let deliveries = format!("/api/v1/webhooks/{}/deliveries/", id(&hook));
    let delivery = poll_until("the asset's delivery", Duration::from_secs(30), || async {
        get(stack, key, &deliveries).await["results"][0]["id"].as_i64()
    })
    .await;
    add(&mut ids, "webhooks/{id}/deliveries/{record_id}", delivery);

    let vehicle = post(
        stack,
        key,
        "/api/v1/vehicles/",
        json!({"name": format!("{mark} van"), "current_mileage": 10000}),
    )
    .await;
    add(&mut ids, "vehicles/{id}", id(&vehicle));
    let maintenance = post(
        stack,
        key,
        &format!("/api/v1/vehicles/{}/maintenance/", id(&vehicle)),
        json!({"maintenance_type": "oil_change", "service_date": "2026-01-10",
               "performed_by": format!("{mark} garage")}),
    )
    .await;
    add(
        &mut ids,
        "vehicles/{id}/maintenance/{record_id}",
        id(&maintenance),
    );
    let fuel = post(
        stack,
        key,
        &format!("/api/v1/vehicles/{}/fuel-logs/", id(&vehicle)),
        json!({"date": "2026-01-10", "mileage": 10100, "gallons": "10"}),
    )
    .await;
    add(&mut ids, "vehicles/{id}/fuel-logs/{record_id}", id(&fuel));

    let password = post(
        stack,
        key,
        "/api/v1/passwords/",
        json!({"title": format!("{mark} firewall"), "username": "admin",
               "password": format!("{mark}-Secret-9!"), "otp_secret": "JBSWY3DPEHPK3PXP"}),
    )
    .await;
    add(&mut ids, "passwords/{id}", id(&password));
    let otp = format!("/api/v1/passwords/{}/otp/", id(&password));
    let code = get(stack, key, &otp).await;
    assert!(code["code"].is_string(), "{code}");

    let monitor = post(
        stack,
        key,
        "/api/v1/monitors/",
        json!({"name": format!("{mark} site"), "monitor_type": "http",
               "url": "http://127.0.0.1:9/", "is_paused": true}),
    )
    .await;
    assert_eq!(monitor["status"], "paused", "{monitor}");
    add(&mut ids, "monitors/{id}", id(&monitor));

    let integration = post(
        stack,
        key,
        "/api/v1/integrations/rmm/",
        json!({"name": format!("{mark} rmm"), "provider": "ninjaone",
               "base_url": "http://127.0.0.1:9",
               "credentials": {"client_id": format!("{mark}-id"),
                               "client_secret": format!("{mark}-secret")},
               "enabled": false}),
    )
    .await;
    add(&mut ids, "integrations/rmm/{id}", id(&integration));
    let sync = format!("/api/v1/integrations/rmm/{}/sync/", id(&integration));
    let run = post(stack, key, &sync, json!({})).await;
    add(&mut ids, "integrations/rmm/{id}/runs/{run_id}", id(&run));

    Seeded {
        ids,
        hook: id(&hook),
        secret,
        asset: id(&asset),
        integration: id(&integration),
        run: id(&run),
    }
}

/// What only A needs: an API key, a member and the memberships, a custom role of A, A itself,
/// a breach scan, a feed sync and the finding it brings. Returns the scan's and the sync's paths.
async fn seed_a_only(stack: &Stack, a: &mut Seeded) -> (String, String) {
    let (key, org, ids) = (&stack.key, stack.org_id, &mut a.ids);
    let api_key = post(
        stack,
        key,
        "/api/v1/api-keys/",
        json!({"name": format!("{A_MARK} key")}),
    )
    .await;
    add(ids, "api-keys/{id}", id(&api_key));
    let member = post(
        stack,
        key,
        "/api/v1/users/",
        json!({"email": format!("{A_MARK}-member@acme.test"), "role": "readonly"}),
    )
    .await;
    add(ids, "users/{id}", id(&member));
    let owner = "SELECT id AS n FROM gateway.users WHERE email = 'owner@acme.test'";
    add(ids, "users/{id}", count(stack, owner).await);
    let memberships = get(
        stack,
        key,
        &format!("/api/v1/memberships/?organization={org}"),
    )
    .await;
    let mut of_a: Vec<&Value> = memberships["results"].as_array().unwrap().iter().collect();
    assert_eq!(of_a.len(), 2, "{memberships}");
    // The member's first: the owner's is the fallback.
    of_a.sort_by_key(|m| m["user"] != id(&member));
    for membership in of_a {
        add(ids, "memberships/{id}", id(membership));
    }
    let role = post(
        stack,
        key,
        "/api/v1/roles/",
        json!({"name": format!("{A_MARK} role"), "permissions": ["assets_view"],
               "organization": org}),
    )
    .await;
    assert_eq!(role["organization"], org, "{role}");
    add(ids, "roles/{id}", id(&role));
    add(ids, "organizations/{id}", org);

    let scan = post(stack, key, "/api/v1/passwords/breach-scan/", json!({})).await;
    assert_eq!(scan["organizations"], json!([org]), "{scan}");
    add(ids, "passwords/breach-scan/{id}", id(&scan));
    let sync = post(stack, key, "/api/v1/vulnerabilities/feed-sync/", json!({})).await;
    add(ids, "vulnerabilities/feed-sync/{id}", id(&sync));
    let findings = format!("/api/v1/vulnerabilities/?asset={}", a.asset);
    let finding = poll_until("A's finding", Duration::from_secs(60), || async {
        get(stack, key, &findings).await["results"][0]["id"].as_i64()
    })
    .await;
    add(ids, "vulnerabilities/{id}", finding);
    let audit = get(stack, key, "/api/v1/audit-log/").await;
    assert!(audit["count"].as_i64().unwrap() >= 1, "{audit}");
    (
        format!("/api/v1/passwords/breach-scan/{}/", id(&scan)),
        format!("/api/v1/vulnerabilities/feed-sync/{}/", id(&sync)),
    )
}

/// Waits until nothing moves on its own any more: deliveries exhausted, runs finished, the
/// breach scan and every password checked, the feed sync done and nothing left to match.
async fn settle(stack: &Stack, a: &Seeded, b: &Seeded, scan: &str, sync: &str) {
    for hook in [a.hook, b.hook] {
        let sql = format!(
            "SELECT count(*) AS n FROM webhooks.deliveries WHERE endpoint_id = {hook} \
             AND (status <> 'exhausted' OR next_attempt_at IS NOT NULL)"
        );
        until_count(stack, "the deliveries to be exhausted", &sql, 0).await;
    }
    for run in [a.run, b.run] {
        let sql =
            format!("SELECT count(*) AS n FROM rmm.runs WHERE id = {run} AND finished_at IS NULL");
        until_count(stack, "the RMM runs to finish", &sql, 0).await;
    }
    poll_until("the breach scan", Duration::from_secs(60), || async {
        (get(stack, &stack.key, scan).await["status"] == "finished").then_some(())
    })
    .await;
    let unchecked = "SELECT count(*) AS n FROM vault.passwords WHERE breach_status = 'unknown'";
    until_count(stack, "every password checked", unchecked, 0).await;
    poll_until("the feed sync", Duration::from_secs(60), || async {
        let sync = get(stack, &stack.key, sync).await;
        (sync["finished_at"].is_string() && sync["assets_pending"] == 0).then_some(())
    })
    .await;
    let b_finding = format!(
        "SELECT count(*) AS n FROM inventory.vulnerability_findings WHERE asset_id = {}",
        b.asset
    );
    until_count(stack, "B's finding", &b_finding, 1).await;
    let queued = "SELECT count(*) AS n FROM inventory.vulns_pending";
    until_count(stack, "nothing left to match", queued, 0).await;
}

/// Organization B: top level, its own owner (of B only), an owner key of scope `all`.
struct OrganizationB {
    key: String,
    uid: i64,
}

async fn organization_b(stack: &Stack) -> OrganizationB {
    admin(&stack.gateway, &["org", "create", "--name", B_NAME]).await;
    admin(&stack.gateway, &["user", "create", "--email", B_EMAIL]).await;
    let membership = [
        "membership",
        "create",
        "--user",
        B_EMAIL,
        "--org",
        B_SLUG,
        "--role",
        "owner",
    ];
    admin(&stack.gateway, &membership).await;
    let key = stack.key_for(B_EMAIL, B_SLUG, &["--scope", "all"]).await;
    let org_sql = format!(
        "SELECT id AS n FROM gateway.organizations WHERE slug = '{B_SLUG}' AND parent_id IS NULL"
    );
    let org = stack
        .count(&org_sql)
        .await
        .expect("B is a top-level organization");
    let uid_sql = format!("SELECT id AS n FROM gateway.users WHERE email = '{B_EMAIL}'");
    let uid = count(stack, &uid_sql).await;
    let reached = get(stack, &key, "/api/v1/organizations/").await;
    assert_eq!(reached["count"], 1, "B's key reaches B alone: {reached}");
    assert_eq!(reached["results"][0]["id"], org);
    // Both names reach every service, so that no answer changes when one arrives late.
    for schema in ["inventory", "webhooks", "rmm", "vault", "monitor"] {
        for name in ["Acme Corp", B_NAME] {
            let sql =
                format!("SELECT count(*) AS n FROM {schema}.organizations WHERE name = '{name}'");
            until_count(stack, "the organizations to propagate", &sql, 1).await;
        }
    }
    OrganizationB { key, uid }
}

// What A reads, before and after.

/// Without the fields that change on their own.
fn steady(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for field in VOLATILE {
                map.remove(*field);
            }
            for v in map.values_mut() {
                *v = steady(v.take());
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = steady(v.take());
            }
        }
        _ => {}
    }
    value
}

/// What A reads at every readable operation (status and body), by path. `/otp/` is left out:
/// reading a code is itself recorded in the access log.
async fn snapshot(stack: &Stack, document: &Value, ids: &Ids) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for (method, template) in operations(document) {
        if method != Method::GET || template.ends_with("/otp/") {
            continue;
        }
        let operation = &document["paths"][&template]["get"];
        let path = list_path(&fill(&template, ids).unwrap(), operation);
        let answer = call(stack, &stack.key, Method::GET, &path, None).await;
        all.insert(
            path,
            json!({"status": answer.status, "body": steady(answer.body)}),
        );
    }
    all
}

struct Before {
    readings: BTreeMap<String, Value>,
    deliveries: i64,
    attempts: i64,
}

fn delivery_rows(hook: i64) -> String {
    format!("SELECT count(*) AS n FROM webhooks.deliveries WHERE endpoint_id = {hook}")
}

fn attempt_rows(hook: i64) -> String {
    format!(
        "SELECT count(*) AS n FROM webhooks.attempts t JOIN webhooks.deliveries d \
         ON d.id = t.delivery_id WHERE d.endpoint_id = {hook}"
    )
}

async fn before(stack: &Stack, document: &Value, a: &Seeded) -> Before {
    let readings = snapshot(stack, document, &a.ids).await;
    for (path, reading) in &readings {
        assert_eq!(reading["status"], 200, "A reads {path}: {reading}");
    }
    Before {
        readings,
        deliveries: count(stack, &delivery_rows(a.hook)).await,
        attempts: count(stack, &attempt_rows(a.hook)).await,
    }
}

// The matrix.

/// What B's key got: answers of A's data by kind, the operations tried, every failure.
#[derive(Default)]
struct Tally {
    reads: i64,
    writes: i64,
    reveals: i64,
    operations: BTreeSet<String>,
    requests: usize,
    failures: Vec<String>,
}

impl Tally {
    /// B's answer at `path` (of the operation `method template`), which must be one of
    /// `refusals` in the error shape.
    fn refused(
        &mut self,
        method: &Method,
        template: &str,
        path: &str,
        answer: &Answer,
        refusals: &[u16],
    ) {
        self.operations.insert(format!("{method} {template}"));
        self.requests += 1;
        if answer.success() {
            if path.contains("reveal=true") || template.ends_with("/otp/") {
                self.reveals += 1;
            } else if *method == Method::GET {
                self.reads += 1;
            } else {
                self.writes += 1;
            }
        }
        if !refusals.contains(&answer.status) || !answer.error_shaped() {
            self.failures.push(format!(
                "{method} {path} with B's key: {} {}",
                answer.status, answer.text
            ));
        }
    }
}

/// Step 2: every operation with path parameters, with A's ids, and nested records also under
/// B's own parent. Reads first, deletes last (nested records before their parents).
async fn parameterized(
    stack: &Stack,
    document: &Value,
    a: &Seeded,
    b: &Seeded,
    b_key: &str,
    tally: &mut Tally,
) {
    let rank = |method: &Method| match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        _ => 4,
    };
    let mut matrix: Vec<(Method, String)> = operations(document)
        .into_iter()
        .filter(|(_, template)| template.contains('{'))
        .collect();
    matrix.sort_by_key(|(method, template)| (rank(method), std::cmp::Reverse(template.len())));
    let mut probes: Vec<(Method, String, String)> = Vec::new();
    let mut unfilled = Vec::new();
    for (method, template) in matrix {
        match fill(&template, &a.ids) {
            Ok(path) => probes.push((method.clone(), template.clone(), path)),
            Err(position) => {
                unfilled.push(format!("{method} {template} (no id of A for {position})"));
            }
        }
        // A's nested record under B's own parent: the parent check passes, the record's must not.
        let positions = positions(&template);
        if let [.., last] = positions.as_slice()
            && positions.len() > 1
        {
            let mut mixed = b.ids.clone();
            mixed.insert(last.clone(), a.ids.get(last).cloned().unwrap_or_default());
            match fill(&template, &mixed) {
                Ok(path) => probes.push((method.clone(), template.clone(), path)),
                Err(position) => {
                    unfilled.push(format!(
                        "{method} {template} (no record of B for {position})"
                    ));
                }
            }
        }
    }
    assert!(
        unfilled.is_empty(),
        "operations the tenant matrix cannot fill; seed their records: {unfilled:#?}"
    );
    let reveal = "/api/v1/passwords/{id}/?reveal=true";
    probes.insert(
        0,
        (Method::GET, reveal.into(), fill(reveal, &a.ids).unwrap()),
    );

    for (method, template, path) in probes {
        if PLATFORM_WIDE.contains(&template.as_str()) {
            platform_wide(stack, b_key, &template, &path, a, tally).await;
            continue;
        }
        let body = body_for(&method, &template);
        let answer = call(stack, b_key, method.clone(), &path, body.as_ref()).await;
        let refusals: &[u16] = if template == reveal {
            &[404]
        } else {
            &[403, 404]
        };
        tally.refused(&method, &template, &path, &answer, refusals);
    }
}

/// A platform-wide record read by B: a refusal, or an answer with nothing of A's in it. The feed
/// sync counts the assets waiting for matching; B reads it while one of A's waits.
async fn platform_wide(
    stack: &Stack,
    b_key: &str,
    template: &str,
    path: &str,
    a: &Seeded,
    tally: &mut Tally,
) {
    let (answer, a_waiting, b_waiting) = while_a_waits_for_matching(stack, b_key, path, a).await;
    if !answer.success() {
        tally.refused(&Method::GET, template, path, &answer, &[403, 404]);
        return;
    }
    tally.operations.insert(format!("GET {template}"));
    tally.requests += 1;
    let foreign = answer.body.get("organization").is_some()
        || answer.body.get("requested_by").is_some()
        || answer.body["assets_pending"] != b_waiting
        || answer.text.contains(A_MARK);
    if foreign {
        tally.reads += 1;
        tally.failures.push(format!(
            "GET {path} (platform-wide) with B's key shows A's data: {} {} \
             ({a_waiting} asset(s) of A waiting for matching, {b_waiting} of B)",
            answer.status, answer.text
        ));
    }
}

/// B reads `path` while one of A's assets waits for matching: the asset is put back in the
/// matcher's queue, and the queue is locked against the matcher (reads go on) for as long as
/// B's request takes. Returns B's answer and how many assets of A and of B were waiting.
async fn while_a_waits_for_matching(
    stack: &Stack,
    b_key: &str,
    path: &str,
    a: &Seeded,
) -> (Answer, i64, i64) {
    let mut conn = stack.env.db.connect().await;
    let waiting = |asset: &str| {
        format!(
            "SELECT count(*) AS n FROM inventory.vulns_pending p JOIN inventory.assets a \
             ON a.id = p.asset_id WHERE {asset}"
        )
    };
    let a_sql = waiting(&format!("a.organization_id = {}", stack.org_id));
    let b_sql = waiting(&format!("a.organization_id <> {}", stack.org_id));
    for _ in 0..10 {
        conn.batch_execute(&format!(
            "INSERT INTO inventory.vulns_pending (asset_id) VALUES ({}) ON CONFLICT DO NOTHING",
            a.asset
        ))
        .await
        .unwrap();
        conn.batch_execute("BEGIN; LOCK TABLE inventory.vulns_pending IN EXCLUSIVE MODE")
            .await
            .unwrap();
        let a_waiting = count_on(&mut conn, &a_sql).await;
        if a_waiting == 0 {
            // The matcher took it between the insert and the lock: again.
            conn.batch_execute("COMMIT").await.unwrap();
            continue;
        }
        let b_waiting = count_on(&mut conn, &b_sql).await;
        let answer = call(stack, b_key, Method::GET, path, None).await;
        conn.batch_execute("COMMIT").await.unwrap();
        return (answer, a_waiting, b_waiting);
    }
    panic!("could not keep an asset of A waiting for matching");
}

/// Whether a list answer read by B shows anything of A: an id A sees in the same list, A's
/// organization, or A's names.
fn shows_a(answer: &Answer, a_listed: &BTreeSet<i64>, a_org: i64) -> Option<String> {
    for item in answer.items() {
        if let Some(id) = item["id"].as_i64()
            && a_listed.contains(&id)
        {
            return Some(format!("id {id} of A: {item}"));
        }
        if item["organization"].as_i64() == Some(a_org) {
            return Some(format!("a record of A's organization: {item}"));
        }
    }
    [A_MARK, "Acme Corp", A_SLUG, "@acme.test"]
        .into_iter()
        .find(|needle| answer.text.contains(needle))
        .map(|needle| format!("the text {needle:?}: {}", answer.text))
}

/// Step 3: every list with B's key, nested ones under B's own records: naming A is refused,
/// and nothing of A is listed. Returns how many lists were read.
async fn lists(
    stack: &Stack,
    document: &Value,
    a: &Seeded,
    b: &Seeded,
    b_key: &str,
    tally: &mut Tally,
) -> usize {
    let a_org = stack.org_id;
    let mut read = 0;
    let mut unfilled = Vec::new();
    for (method, template) in operations(document) {
        let operation = &document["paths"][&template]["get"];
        if method != Method::GET || !is_list(operation) {
            continue;
        }
        let b_path = match fill(&template, &b.ids) {
            Ok(path) => path,
            Err(position) => {
                unfilled.push(format!("GET {template} (no record of B for {position})"));
                continue;
            }
        };
        read += 1;
        for organization in [a_org.to_string(), A_SLUG.to_string()] {
            let path = format!("{b_path}?organization={organization}");
            let answer = call(stack, b_key, Method::GET, &path, None).await;
            tally.refused(&method, &template, &path, &answer, &[403]);
        }
        let a_path = list_path(&fill(&template, &a.ids).unwrap(), operation);
        let a_view = call(stack, &stack.key, Method::GET, &a_path, None).await;
        assert_eq!(a_view.status, 200, "A lists {a_path}: {}", a_view.text);
        let a_listed: BTreeSet<i64> = a_view
            .items()
            .iter()
            .filter_map(|item| item["id"].as_i64())
            .collect();
        let path = list_path(&b_path, operation);
        let answer = call(stack, b_key, Method::GET, &path, None).await;
        tally.requests += 1;
        if answer.status != 200 {
            tally.failures.push(format!(
                "GET {path} with B's key: {} {}",
                answer.status, answer.text
            ));
        } else if let Some(what) = shows_a(&answer, &a_listed, a_org) {
            tally.reads += 1;
            tally
                .failures
                .push(format!("GET {path} with B's key lists {what}"));
        }
    }
    assert!(
        unfilled.is_empty(),
        "nested lists the tenant matrix has no record of B for; seed them: {unfilled:#?}"
    );
    read
}

/// Step 4: with A's key, nothing changed.
async fn nothing_changed(
    stack: &Stack,
    document: &Value,
    a: &Seeded,
    b: &OrganizationB,
    before: &Before,
    tally: &mut Tally,
) {
    let queued = "SELECT count(*) AS n FROM inventory.vulns_pending";
    until_count(stack, "nothing left to match", queued, 0).await;
    let after = snapshot(stack, document, &a.ids).await;
    for (path, was) in &before.readings {
        let now = after.get(path).unwrap_or(&Value::Null);
        if now != was {
            tally.failures.push(format!(
                "A reads {path} differently: before {was}, after {now}"
            ));
        }
    }

    let deliveries = count(stack, &delivery_rows(a.hook)).await;
    let attempts = count(stack, &attempt_rows(a.hook)).await;
    let due = count(
        stack,
        &format!(
            "SELECT count(*) AS n FROM webhooks.deliveries WHERE endpoint_id = {} \
             AND next_attempt_at IS NOT NULL",
            a.hook
        ),
    )
    .await;
    if (deliveries, attempts, due) != (before.deliveries, before.attempts, 0) {
        tally.writes += 1;
        tally.failures.push(format!(
            "A's webhook: {} deliveries and {} attempts before, {deliveries} and {attempts} \
             after, {due} due again",
            before.deliveries, before.attempts
        ));
    }

    let log = get(
        stack,
        &stack.key,
        &format!("/api/v1/vault/access-log/?user={}", b.uid),
    )
    .await;
    let rows = count(
        stack,
        &format!(
            "SELECT count(*) AS n FROM vault.access_log WHERE organization_id = {} \
             AND user_id = {}",
            stack.org_id, b.uid
        ),
    )
    .await;
    if log["count"] != 0 || rows != 0 {
        tally.reveals += rows;
        tally
            .failures
            .push(format!("A's vault access log has B's user in it: {log}"));
    }

    let same_secret = format!(
        "SELECT count(*) AS n FROM webhooks.endpoints WHERE id = {} AND secret = '{}' \
         AND previous_secret IS NULL AND previous_secret_expires_at IS NULL",
        a.hook, a.secret
    );
    if count(stack, &same_secret).await != 1 {
        tally.writes += 1;
        tally.failures.push("A's webhook secret was rotated".into());
    }

    let runs = get(
        stack,
        &stack.key,
        &format!("/api/v1/integrations/rmm/{}/runs/", a.integration),
    )
    .await;
    let run_rows = count(
        stack,
        &format!(
            "SELECT count(*) AS n FROM rmm.runs WHERE integration_id = {}",
            a.integration
        ),
    )
    .await;
    if runs["count"] != 1 || runs["results"][0]["id"] != a.run || run_rows != 1 {
        tally.writes += 1;
        tally.failures.push(format!(
            "A's RMM integration has runs A did not start ({run_rows} rows): {runs}"
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_b_reaches_nothing_of_organization_a_through_any_operation() {
    let widget = "cpe:2.3:a:example:widget:*:*:*:*:*:*:*:*";
    let cve = nvd_item(
        "CVE-2099-0001",
        "Remote code execution in Example Widget before 4.2.1.",
        9.8,
        widget,
        &[("versionEndExcluding", "4.2.1")],
    );
    let feeds = FeedServer::start(vec![cve], vec![], 10).await;
    let pwned = PwnedServer::start(&[]).await;
    let (nvd, kev, hibp) = (feeds.nvd_url(), feeds.kev_url(), pwned.url());
    let mut settings = RAISED_LIMITS.to_vec();
    settings.extend([
        ("inventory.nvd_url", nvd.as_str()),
        ("inventory.kev_url", kev.as_str()),
        ("inventory.nvd_pause_ms", "0"),
        ("vault.hibp_url", hibp.as_str()),
    ]);
    let stack = Stack::start_with(&settings).await;
    let document = document();
    let org_b = organization_b(&stack).await;

    // 1. A's records of every resource with path parameters; B's own, for the nested lists.
    let mut a = seed(&stack, &stack.key, A_MARK).await;
    let (scan, sync) = seed_a_only(&stack, &mut a).await;
    let b = seed(&stack, &org_b.key, B_MARK).await;
    settle(&stack, &a, &b, &scan, &sync).await;
    let before = before(&stack, &document, &a).await;

    let mut tally = Tally::default();
    // 2. Every operation with path parameters, with B's key and A's ids.
    parameterized(&stack, &document, &a, &b, &org_b.key, &mut tally).await;
    let with_parameters = tally.operations.len();
    // 3. Every list with B's key.
    let listed = lists(&stack, &document, &a, &b, &org_b.key, &mut tally).await;
    // 4. With A's key: nothing changed.
    nothing_changed(&stack, &document, &a, &org_b, &before, &mut tally).await;

    println!(
        "tenant matrix: {} operations × B's key: {} reads, {} writes, {} reveals across \
         organizations",
        tally.operations.len(),
        tally.reads,
        tally.writes,
        tally.reveals
    );
    println!(
        "  ({with_parameters} with path parameters including ?reveal=true, {listed} lists; {} \
         requests with B's key; {} readings of A compared before and after)",
        tally.requests,
        before.readings.len()
    );
    assert!(
        tally.failures.is_empty(),
        "organization B reached organization A:\n{}",
        tally.failures.join("\n")
    );
    stack.stop().await;
    feeds.stop().await;
    pwned.stop().await;
}
