//! The vault through the gateway: sealed secrets, reveal with permission and audit, OTP codes,
//! key rotation under load, fail-closed audit, and breach detection against a local
//! Pwned Passwords server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine as _;
use clientstor_config::Service;
use clientstor_e2e::Stack;
use clientstor_testkit::{PwnedServer, Receiver, poll_until};
use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// RFC 4226/6238 computed here, independently of the service.
fn totp(secret: &[u8], algorithm: ring::hmac::Algorithm, digits: u32, time: u64) -> String {
    let key = ring::hmac::Key::new(algorithm, secret);
    let tag = ring::hmac::sign(&key, &(time / 30).to_be_bytes());
    let mac = tag.as_ref();
    let offset = (mac[mac.len() - 1] & 0xf) as usize;
    let value = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!(
        "{:0width$}",
        value % 10u32.pow(digits),
        width = digits as usize
    )
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(ALPHABET[((bits >> (35 - i * 5)) & 31) as usize] as char);
        }
    }
    out
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

async fn readonly_key(stack: &Stack) -> String {
    clientstor_e2e::admin(
        &stack.gateway,
        &["user", "create", "--email", "ro@acme.test"],
    )
    .await;
    clientstor_e2e::admin(
        &stack.gateway,
        &[
            "membership",
            "create",
            "--user",
            "ro@acme.test",
            "--org",
            "acme-corp",
            "--role",
            "readonly",
        ],
    )
    .await;
    stack
        .key_for("ro@acme.test", "acme-corp", &["--role", "readonly"])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_sealed_revealed_with_permission_and_otp_codes_follow_rfc_6238() {
    let pwned = PwnedServer::start(&[]).await;
    let stack = Stack::start_with(&[("vault.hibp_url", &pwned.url())]).await;
    let password = "Zq!7-correct-horse-battery";
    let sha1 = b"12345678901234567890".to_vec();
    let sha256 = b"12345678901234567890123456789012".to_vec();
    let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
    let created = stack
        .post(
            "/api/v1/passwords/",
            json!({"title": "Firewall admin", "username": "admin", "url": "https://fw.acme.test",
                   "password_type": "network_device", "password": password, "tags": ["fw"],
                   "otp_secret": format!("otpauth://totp/ACME:admin?secret={}&issuer=ACME&digits=8", base32(&sha1))}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let text = created.text().await.unwrap();
    assert!(!text.contains(password), "the create answer leaks: {text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["password"], "********");
    assert_eq!(created["has_otp"], true);
    assert_eq!(created["otp_issuer"], "ACME");
    let id = created["id"].as_i64().unwrap();
    let detail_path = format!("/api/v1/passwords/{id}/");

    // Lists and details never carry the password.
    let list = stack
        .get("/api/v1/passwords/?search=firewall")
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains(password));
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["count"], 1);
    assert!(list["results"][0].get("password").is_none());
    let detail = stack.get(&detail_path).await.text().await.unwrap();
    assert!(!detail.contains(password));

    // Reveal: the owner gets it, a read-only key gets 403.
    let revealed = body(stack.get(&format!("{detail_path}?reveal=true")).await).await;
    assert_eq!(revealed["password"], password);
    let readonly = readonly_key(&stack).await;
    assert_eq!(
        stack
            .get_as(&readonly, &format!("{detail_path}?reveal=true"))
            .await
            .status(),
        403
    );
    assert_eq!(
        stack
            .get_as(&readonly, &format!("/api/v1/passwords/{id}/otp/"))
            .await
            .status(),
        403
    );
    assert_eq!(stack.get_as(&readonly, &detail_path).await.status(), 200);

    // OTP codes equal RFC 6238 for SHA-1, SHA-256 and SHA-512 secrets.
    let mut otp_entries = vec![(id, sha1.clone(), ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY)];
    for (secret, name, algorithm) in [
        (sha256.clone(), "SHA256", ring::hmac::HMAC_SHA256),
        (sha512.clone(), "SHA512", ring::hmac::HMAC_SHA512),
    ] {
        let entry = body(
            stack
                .post(
                    "/api/v1/passwords/",
                    json!({"title": format!("otp {name}"), "password_type": "otp",
                           "otp_secret": format!("otpauth://totp/x?secret={}&algorithm={name}&digits=8", base32(&secret))}),
                )
                .await,
        )
        .await;
        otp_entries.push((entry["id"].as_i64().unwrap(), secret, algorithm));
    }
    for (entry, secret, algorithm) in &otp_entries {
        let before = now();
        let code = body(stack.get(&format!("/api/v1/passwords/{entry}/otp/")).await).await;
        let after = now();
        assert_eq!(code["digits"], 8);
        assert_eq!(code["period"], 30);
        let expected = [
            totp(secret, *algorithm, 8, before),
            totp(secret, *algorithm, 8, after),
        ];
        assert!(
            expected.contains(&code["code"].as_str().unwrap().to_string()),
            "{code} vs {expected:?}"
        );
    }
    let no_otp = body(
        stack
            .post(
                "/api/v1/passwords/",
                json!({"title": "plain", "password": "x"}),
            )
            .await,
    )
    .await;
    assert_eq!(
        stack
            .get(&format!("/api/v1/passwords/{}/otp/", no_otp["id"]))
            .await
            .status(),
        400
    );

    // Nothing readable at rest: no password, no OTP secret in any vault table.
    let mut conn = stack.env.db.connect().await;
    #[derive(diesel::QueryableByName)]
    struct Dump {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    let dump: Vec<Dump> = diesel::sql_query(
        "SELECT row_to_json(p)::text AS text FROM vault.passwords p \
         UNION ALL SELECT row_to_json(a)::text FROM vault.access_log a \
         UNION ALL SELECT row_to_json(k)::text FROM vault.data_keys k \
         UNION ALL SELECT convert_from(payload, 'SQL_ASCII') FROM vault.outbox",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let everything: String = dump.iter().map(|d| d.text.as_str()).collect();
    for secret in [password.to_string(), base32(&sha1), base32(&sha256)] {
        assert!(!everything.contains(&secret), "found {secret} at rest");
        let as_hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(
            !everything.contains(&as_hex),
            "found {secret} as hex at rest"
        );
    }

    // Update re-encrypts: a new password reveals, with a new ciphertext.
    #[derive(diesel::QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Binary>)]
        sealed: Option<Vec<u8>>,
    }
    async fn sealed(conn: &mut diesel_async::AsyncPgConnection, id: i64) -> Option<Vec<u8>> {
        let sql = format!("SELECT password_sealed AS sealed FROM vault.passwords WHERE id = {id}");
        diesel::sql_query(sql)
            .get_result::<Sealed>(conn)
            .await
            .unwrap()
            .sealed
    }
    let before = sealed(&mut conn, id).await;
    let patched = stack
        .send(
            Method::PATCH,
            &detail_path,
            Some(json!({"password": "n3w-Secret-value!"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_ne!(sealed(&mut conn, id).await, before);
    let revealed = body(stack.get(&format!("{detail_path}?reveal=true")).await).await;
    assert_eq!(revealed["password"], "n3w-Secret-value!");
    assert_eq!(revealed["username"], "admin", "PATCH keeps the rest");
    assert_eq!(revealed["has_otp"], true, "and keeps the OTP secret");

    // A ciphertext copied onto another entry does not open there.
    diesel::sql_query(format!(
        "UPDATE vault.passwords SET password_sealed = (SELECT password_sealed FROM vault.passwords WHERE id = {id}) \
         WHERE id = {}",
        no_otp["id"]
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let moved = stack
        .get(&format!("/api/v1/passwords/{}/?reveal=true", no_otp["id"]))
        .await;
    assert_eq!(moved.status(), 409);
    let moved = body(moved).await;
    assert!(
        moved["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be decrypted"),
        "{moved}"
    );
    assert!(moved.get("password").is_none());

    // Every reveal and OTP read is in the access log, chained.
    let log = body(
        stack
            .get("/api/v1/vault/access-log/?user=1&action=reveal")
            .await,
    )
    .await;
    assert!(log["count"].as_i64().unwrap() >= 3, "{log}");
    let entry_log = body(
        stack
            .get(&format!("/api/v1/passwords/{id}/access-log/"))
            .await,
    )
    .await;
    let actions: Vec<&str> = entry_log["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["reveal", "update", "otp", "reveal", "create"],
        "newest first"
    );
    assert_eq!(
        vault::db::access_log::first_broken(&stack.vault.context.pool, stack.org_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        stack
            .get_as(&readonly, "/api/v1/vault/access-log/")
            .await
            .status(),
        403
    );

    // Delete removes the entry and its secrets.
    assert_eq!(
        stack
            .send(Method::DELETE, &detail_path, None)
            .await
            .status(),
        204
    );
    assert_eq!(stack.get(&detail_path).await.status(), 404);
    assert_eq!(
        stack
            .count_all(&format!(
                "SELECT count(*) AS n FROM vault.passwords WHERE id = {id}"
            ))
            .await,
        Some(0)
    );
    pwned.stop().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_whose_access_record_cannot_be_written_is_refused() {
    let stack = Stack::start(false).await;
    let entry = body(
        stack
            .post(
                "/api/v1/passwords/",
                json!({"title": "db", "password": "fail-closed-secret"}),
            )
            .await,
    )
    .await;
    let path = format!("/api/v1/passwords/{}/?reveal=true", entry["id"]);
    let mut conn = stack.env.db.connect().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        "CREATE FUNCTION vault.refuse_insert() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'access log unavailable'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON vault.access_log FOR EACH ROW EXECUTE FUNCTION vault.refuse_insert();",
    )
    .await
    .unwrap();
    let refused = stack.get(&path).await;
    assert!(refused.status().is_server_error(), "{}", refused.status());
    let text = refused.text().await.unwrap();
    assert!(!text.contains("fail-closed-secret"), "{text}");
    assert!(
        !text.contains("access log unavailable"),
        "internal detail leaked: {text}"
    );
    diesel::sql_query("DROP TRIGGER refuse ON vault.access_log")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        body(stack.get(&path).await).await["password"],
        "fail-closed-secret"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveals_over_the_hourly_limit_get_429() {
    let stack = Stack::start_with(&[("vault.reveal_limit_per_hour", "3")]).await;
    let entry = body(
        stack
            .post("/api/v1/passwords/", json!({"title": "t", "password": "p"}))
            .await,
    )
    .await;
    let path = format!("/api/v1/passwords/{}/?reveal=true", entry["id"]);
    for _ in 0..3 {
        assert_eq!(stack.get(&path).await.status(), 200);
    }
    let limited = stack.get(&path).await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_while_reveals_continue_and_a_new_master_key_rewraps() {
    let stack = Stack::start_with(&[("vault.reveal_limit_per_hour", "1000000")]).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let entry = body(
            stack
                .post(
                    "/api/v1/passwords/",
                    json!({"title": format!("e{i}"), "password": format!("secret-{i}"),
                           "otp_secret": "JBSWY3DPEHPK3PXP"}),
                )
                .await,
        )
        .await;
        ids.push(entry["id"].as_i64().unwrap());
    }
    let revealing = {
        let (url, key, ids) = (stack.url(""), stack.key.clone(), ids.clone());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let good_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let progress = good_so_far.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut ok, mut failed) = (0, 0);
            while !std::sync::atomic::AtomicBool::load(&flag, std::sync::atomic::Ordering::Relaxed)
            {
                for (i, id) in ids.iter().enumerate() {
                    let response = client
                        .get(format!("{url}/api/v1/passwords/{id}/?reveal=true"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap();
                    let good = response.status() == 200
                        && response.json::<Value>().await.unwrap()["password"]
                            == format!("secret-{i}");
                    if good {
                        ok += 1;
                        std::sync::atomic::AtomicUsize::fetch_add(
                            &progress,
                            1,
                            std::sync::atomic::Ordering::Relaxed,
                        );
                    } else {
                        failed += 1
                    }
                }
            }
            (ok, failed)
        });
        (stop, task, good_so_far)
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let keyring = vault::keyring::from_settings(&stack.env.settings(Service::Vault, &[])).unwrap();
    let rotation = vault::rotate::rotate_keys(&stack.vault.context.pool, &keyring)
        .await
        .unwrap();
    assert_eq!(rotation.organizations, 1);
    assert_eq!(rotation.entries_resealed, 30);
    // A full pass of reveals after the rotation, however slow the machine.
    let after_rotation =
        std::sync::atomic::AtomicUsize::load(&revealing.2, std::sync::atomic::Ordering::Relaxed);
    poll_until(
        "reveals after the rotation",
        Duration::from_secs(60),
        || {
            let good = std::sync::atomic::AtomicUsize::load(
                &revealing.2,
                std::sync::atomic::Ordering::Relaxed,
            );
            async move { (good >= after_rotation + 30).then_some(()) }
        },
    )
    .await;
    revealing
        .0
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = revealing.1.await.unwrap();
    assert_eq!(failed, 0, "{ok} good reveals");
    assert!(ok > 30);
    let old = stack
        .count_all("SELECT count(*) AS n FROM vault.passwords WHERE key_version IS DISTINCT FROM 2")
        .await;
    assert_eq!(old, Some(0), "every entry on the new version");

    // A new master key: configured with the old one as previous, rotation re-wraps every data key.
    let old_master = stack
        .env
        .settings(Service::Vault, &[])
        .vault
        .master_key
        .unwrap()
        .expose()
        .to_string();
    let new_master = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8; 32]);
    let settings = stack.env.settings(
        Service::Vault,
        &[
            ("vault.master_key", &new_master),
            ("vault.previous_master_key", &old_master),
        ],
    );
    let keyring = vault::keyring::from_settings(&settings).unwrap();
    let rotation = vault::rotate::rotate_keys(&stack.vault.context.pool, &keyring)
        .await
        .unwrap();
    assert_eq!(rotation.keys_rewrapped, 2);
    // Now the new master key alone opens everything.
    let stack = stack
        .restart_vault(&[("vault.master_key", &new_master)])
        .await;
    for (i, id) in ids.iter().enumerate() {
        let revealed = body(
            stack
                .get(&format!("/api/v1/passwords/{id}/?reveal=true"))
                .await,
        )
        .await;
        assert_eq!(revealed["password"], format!("secret-{i}"));
    }
    assert_eq!(
        stack
            .get(&format!("/api/v1/passwords/{}/otp/", ids[0]))
            .await
            .status(),
        200
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breached_password_raises_one_vault_breach_webhook() {
    let pwned = PwnedServer::start(&[("Summer2024!", 4242)]).await;
    let stack = Stack::start_with(&[("vault.hibp_url", &pwned.url())]).await;
    let receiver = Receiver::start().await;
    let hook = stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "breaches", "url": receiver.url("/hook"), "events": ["vault.breach"]}),
        )
        .await;
    assert_eq!(hook.status(), 201, "{}", hook.text().await.unwrap());
    let breached = body(
        stack
            .post(
                "/api/v1/passwords/",
                json!({"title": "Reception PC", "username": "front", "url": "https://pc.acme.test",
                       "password": "Summer2024!"}),
            )
            .await,
    )
    .await;
    assert_eq!(
        breached["breach"]["status"], "unknown",
        "checked after commit"
    );
    let safe = body(
        stack
            .post(
                "/api/v1/passwords/",
                json!({"title": "Safe", "password": "vq8#Lw2!pX9z-unique"}),
            )
            .await,
    )
    .await;
    let status_of = |id: &Value| {
        let path = format!("/api/v1/passwords/{id}/");
        let stack = &stack;
        async move { body(stack.get(&path).await).await["breach"].clone() }
    };
    poll_until("both checked", Duration::from_secs(20), || async {
        let a = status_of(&breached["id"]).await;
        let b = status_of(&safe["id"]).await;
        (a["status"] != "unknown" && b["status"] != "unknown").then_some(())
    })
    .await;
    let a = status_of(&breached["id"]).await;
    assert_eq!(a["status"], "breached");
    assert_eq!(a["count"], 4242);
    assert_eq!(status_of(&safe["id"]).await["status"], "safe");
    assert!(
        pwned
            .requests()
            .iter()
            .all(|(prefix, padded)| prefix.len() == 5 && *padded)
    );

    poll_until("the webhook", Duration::from_secs(20), || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    // A rescan finds it breached again: no second event.
    let scan = stack
        .post("/api/v1/passwords/breach-scan/", json!({}))
        .await;
    assert_eq!(scan.status(), 202);
    let scan = body(scan).await;
    let scan_path = scan["url"].as_str().unwrap().to_string();
    poll_until("the scan", Duration::from_secs(20), || async {
        let scan = body(stack.get(&scan_path).await).await;
        (scan["status"] == "finished").then_some(scan)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hooks = receiver.requests();
    assert_eq!(hooks.len(), 1, "exactly one vault.breach");
    let data = &hooks[0].json()["data"];
    assert_eq!(data["password_id"], breached["id"]);
    assert_eq!(data["title"], "Reception PC");
    assert_eq!(data["breach_count"], 4242);
    assert!(!String::from_utf8_lossy(&hooks[0].body).contains("Summer2024!"));

    // With the service down, a new password stays unknown, never safe.
    pwned.stop().await;
    let unknown = body(
        stack
            .post(
                "/api/v1/passwords/",
                json!({"title": "Later", "password": "another-Unique-9"}),
            )
            .await,
    )
    .await;
    poll_until("the attempt", Duration::from_secs(20), || async {
        let n = stack
            .count_all(&format!(
                "SELECT count(*) AS n FROM vault.passwords WHERE id = {} AND breach_attempted_at IS NOT NULL",
                unknown["id"]
            ))
            .await?;
        (n == 1).then_some(())
    })
    .await;
    assert_eq!(status_of(&unknown["id"]).await["status"], "unknown");
    stack.stop().await;
}
