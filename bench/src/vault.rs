//! Vault throughput through the gateway: reveals (open a sealed password, append to the
//! hash-chained access log) and creates (seal, insert, log) per second.

use std::time::Duration;

use clientstor_e2e::Stack;
use serde_json::json;

use crate::{Figures, load_with, table};

pub async fn section(seconds: u64, connections: usize) -> String {
    // Limits are raised for the run: this measures the path, not the limiters saying no.
    let stack = Stack::start_with(&[
        ("gateway.rate_limit.per_minute", "100000000"),
        ("gateway.rate_limit.org_per_minute", "100000000"),
        ("vault.reveal_limit_per_hour", "100000000"),
        ("database.pool_size", "16"),
    ])
    .await;
    let duration = Duration::from_secs(seconds);
    let mut ids = Vec::new();
    for i in 0..100 {
        let created: serde_json::Value = stack
            .post(
                "/api/v1/passwords/",
                json!({"title": format!("bench-{i}"), "password": format!("Secret-{i}-value!")}),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_i64().unwrap());
    }
    let base = stack.url("");
    let key = stack.key.clone();
    let mut results: Vec<Figures> = Vec::new();
    let (reveal_base, reveal_key, reveal_ids) = (base.clone(), key.clone(), ids.clone());
    results.push(
        load_with(
            "reveal (`?reveal=true`)",
            connections,
            duration,
            move |client, i| {
                let id = reveal_ids[i % reveal_ids.len()];
                client
                    .get(format!("{reveal_base}/api/v1/passwords/{id}/?reveal=true"))
                    .bearer_auth(&reveal_key)
            },
        )
        .await,
    );
    let (detail_base, detail_key, detail_ids) = (base.clone(), key.clone(), ids.clone());
    results.push(
        load_with(
            "detail (masked)",
            connections,
            duration,
            move |client, i| {
                let id = detail_ids[i % detail_ids.len()];
                client
                    .get(format!("{detail_base}/api/v1/passwords/{id}/"))
                    .bearer_auth(&detail_key)
            },
        )
        .await,
    );
    results.push(
        load_with("create with a password", connections, duration, move |client, i| {
            client
                .post(format!("{base}/api/v1/passwords/"))
                .bearer_auth(&key)
                .json(&json!({"title": format!("load-{i}"), "password": format!("Load-{i}-secret!")}))
        })
        .await,
    );
    stack.stop().await;
    format!(
        "## Vault\n\nThrough the gateway, {connections} closed-loop connections for {seconds} s each \
         (rate and reveal limits raised for the run). A reveal opens the sealed password and appends \
         to the organization's hash-chained access log in the same transaction; every request here \
         uses one organization, so reveals queue on its chain head.\n\n{}",
        table(&results)
    )
}
