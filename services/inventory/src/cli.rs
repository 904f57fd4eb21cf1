//! `inventory import-cves FILE…`: CVE records from files (NVD CVE API 2.0 pages, or arrays of
//! `{"cve": …}` items) into the CVE store, for installations without access to the NVD. The
//! running service matches the assets afterwards.

use std::process::ExitCode;

use clientstor_config::{Service, Settings};

use crate::db::cves;

pub async fn import_cves(settings: Settings, files: &[std::path::PathBuf]) -> ExitCode {
    let context = match clientstor_runtime::Context::new(Service::Inventory, settings) {
        Ok(context) => context,
        Err(error) => {
            eprintln!("inventory: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stored = 0;
    let mut unreadable = 0;
    for file in files {
        let body = match std::fs::read(file) {
            Ok(body) => body,
            Err(error) => {
                eprintln!("inventory: {}: {error}", file.display());
                return ExitCode::FAILURE;
            }
        };
        let records = match crate::vulns::nvd::parse_records(&body) {
            Ok(records) => records,
            Err(reason) => {
                eprintln!("inventory: {}: {reason}", file.display());
                return ExitCode::FAILURE;
            }
        };
        let mut good = Vec::with_capacity(records.len());
        for record in records {
            match record {
                Ok(record) => good.push(record),
                Err(reason) => {
                    unreadable += 1;
                    eprintln!("inventory: {}: skipped: {reason}", file.display());
                }
            }
        }
        let mut conn = match context.pool.get().await {
            Ok(conn) => conn,
            Err(error) => {
                eprintln!("inventory: database: {error}");
                return ExitCode::FAILURE;
            }
        };
        for chunk in good.chunks(2000) {
            match cves::store(&mut conn, chunk).await {
                Ok(n) => stored += n,
                Err(error) => {
                    eprintln!("inventory: {}: {error}", file.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if stored > 0 {
        let queued = match context.pool.get().await {
            Ok(mut conn) => cves::queue_all(&mut conn).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = queued {
            eprintln!("inventory: queueing the assets for matching: {error}");
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "inventory: {stored} CVE record(s) imported, {unreadable} skipped; assets are matched by \
         the running service"
    );
    ExitCode::SUCCESS
}
