//! Checks entries whose breach check is due: after every create and password change (the
//! route wakes the worker after commit), on the rescan schedule, and for API-requested scans.
//! Claims are leases, so a crash leaves nothing unchecked.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clientstor_crypto::Binding;
use clientstor_events::v1::{Organization, VaultBreach, envelope::Payload};
use clientstor_runtime::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::hibp::Hibp;
use crate::db::breach::{self, DueEntry, Outcome};
use crate::keyring::Keyring;

const BATCH: i64 = 32;
/// Retry an unreachable service after this long.
const RETRY: chrono::Duration = chrono::Duration::minutes(5);
/// Look for due work at least this often without being woken.
const TICK: Duration = Duration::from_secs(5);

pub fn spawn(context: &Context, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let keyring = match crate::keyring::from_settings(&context.settings) {
        Ok(keyring) => keyring,
        Err(error) => {
            eprintln!("vault: {error}");
            std::process::exit(2);
        }
    };
    let policy = match clientstor_outbound::Policy::from_settings(&context.settings.outbound) {
        Ok(policy) => Arc::new(policy),
        Err(error) => {
            eprintln!("vault: {error}");
            std::process::exit(2);
        }
    };
    let hibp = match Hibp::new(
        &context.settings.vault.hibp_url,
        policy,
        Duration::from_secs(10),
    ) {
        Ok(hibp) => Arc::new(hibp),
        Err(error) => {
            eprintln!("vault: breach client: {error}");
            std::process::exit(1);
        }
    };
    let context = context.clone();
    vec![tokio::spawn(async move {
        loop {
            match run_once(&context, &keyring, &hibp).await {
                Ok(checked) if checked > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "breach check pass failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = context.work.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    })]
}

/// Checks one batch of due entries; returns how many were claimed.
async fn run_once(
    context: &Context,
    keyring: &Keyring,
    hibp: &Hibp,
) -> Result<usize, crate::error::VaultError> {
    let due = breach::claim_due(&context.pool, BATCH).await?;
    let rescan = chrono::Duration::hours(
        i64::try_from(context.settings.vault.breach_scan_hours.max(1)).unwrap_or(24),
    );
    for entry in &due {
        // Each check is a trace of its own: the range request and any breach event share it.
        let trace = clientstor_events::trace::TraceParent::root();
        clientstor_events::trace::scope(trace, async {
            let outcome = check(context, keyring, hibp, entry).await;
            let next = Utc::now()
                + match outcome {
                    Outcome::Unreachable => RETRY,
                    _ => rescan,
                };
            breach::record(&context.pool, entry, outcome, next, |checked_at, name| {
                breach_event(entry, outcome, checked_at, name)
            })
            .await
        })
        .await?;
    }
    if !due.is_empty() {
        context.outbox.notify();
    }
    Ok(due.len())
}

async fn check(context: &Context, keyring: &Keyring, hibp: &Hibp, entry: &DueEntry) -> Outcome {
    let Some(sealed) = &entry.password_sealed else {
        return Outcome::Unreachable;
    };
    let opened = async {
        let version = clientstor_crypto::key_version(sealed)?;
        let mut conn = context.pool.get().await?;
        let key = keyring
            .key(&mut conn, entry.organization_id, version)
            .await?;
        let binding = Binding::new(entry.organization_id, "passwords", entry.id, "password");
        clientstor_crypto::open(&key, &binding, sealed).map_err(|cause| {
            crate::error::VaultError::Undecryptable {
                entry: entry.id,
                cause,
            }
        })
    };
    let password = match opened.await {
        Ok(password) => password,
        Err(error) => {
            tracing::error!(entry = entry.id, %error, "cannot open password for breach check");
            return Outcome::Unreachable;
        }
    };
    match hibp.count(&password).await {
        Ok(0) => Outcome::Safe,
        Ok(n) => Outcome::Breached(i64::try_from(n).unwrap_or(i64::MAX)),
        Err(error) => {
            tracing::warn!(entry = entry.id, %error, "breach check failed; status unchanged");
            Outcome::Unreachable
        }
    }
}

fn breach_event(
    entry: &DueEntry,
    outcome: Outcome,
    checked_at: chrono::DateTime<Utc>,
    organization_name: String,
) -> clientstor_events::v1::Envelope {
    let count = match outcome {
        Outcome::Breached(n) => n,
        _ => 0,
    };
    clientstor_events::new_envelope(
        clientstor_events::types::VAULT_BREACH,
        "vault",
        Organization {
            id: entry.organization_id,
            name: organization_name,
        },
        Payload::VaultBreach(VaultBreach {
            password_id: entry.id,
            title: entry.title.clone(),
            username: entry.username.clone(),
            url: entry.url.clone(),
            breach_count: count,
            checked_at: checked_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
    )
}
