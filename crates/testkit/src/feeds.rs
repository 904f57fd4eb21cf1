//! A local NVD CVE API 2.0 and CISA KEV server: `GET /rest/json/cves/2.0` pages the declared
//! CVE items by `startIndex`/`resultsPerPage` (at most `page_size` per page, like NVD's 2000),
//! and `GET /kev.json` serves the catalogue. It records every query string.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

#[derive(Clone)]
struct Shared {
    cves: Arc<Mutex<Vec<Value>>>,
    kev: Arc<Mutex<Vec<Value>>>,
    page_size: usize,
    requests: Arc<Mutex<Vec<String>>>,
}

pub struct FeedServer {
    pub base_url: String,
    shared: Shared,
    handle: actix_web::dev::ServerHandle,
}

fn param(req: &HttpRequest, name: &str) -> Option<usize> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
}

async fn cves(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared
        .requests
        .lock()
        .unwrap()
        .push(req.query_string().to_string());
    let query = req.query_string();
    // NVD: both last-modified bounds or neither.
    if query.contains("lastModStartDate") != query.contains("lastModEndDate") {
        return HttpResponse::NotFound().finish();
    }
    let all = shared.cves.lock().unwrap().clone();
    let start = param(&req, "startIndex").unwrap_or(0);
    let per_page = param(&req, "resultsPerPage")
        .unwrap_or(shared.page_size)
        .min(shared.page_size);
    let items: Vec<Value> = all.iter().skip(start).take(per_page).cloned().collect();
    HttpResponse::Ok().json(json!({
        "resultsPerPage": items.len(),
        "startIndex": start,
        "totalResults": all.len(),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2099-01-01T00:00:00.000",
        "vulnerabilities": items,
    }))
}

async fn kev(shared: web::Data<Shared>) -> HttpResponse {
    let entries = shared.kev.lock().unwrap().clone();
    HttpResponse::Ok().json(json!({
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2099.01.01",
        "dateReleased": "2099-01-01T00:00:00.000Z",
        "count": entries.len(),
        "vulnerabilities": entries,
    }))
}

impl FeedServer {
    /// Serves `cves` (items of the NVD `vulnerabilities` array, `{"cve": {…}}`) in pages of
    /// `page_size`, and the KEV `entries`.
    pub async fn start(cves_items: Vec<Value>, kev_entries: Vec<Value>, page_size: usize) -> Self {
        let shared = Shared {
            cves: Arc::new(Mutex::new(cves_items)),
            kev: Arc::new(Mutex::new(kev_entries)),
            page_size: page_size.max(1),
            requests: Arc::default(),
        };
        let data = web::Data::new(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/rest/json/cves/2.0", web::get().to(cves))
                .route("/kev.json", web::get().to(kev))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        FeedServer {
            base_url: format!("http://{addr}"),
            shared,
            handle,
        }
    }

    pub fn nvd_url(&self) -> String {
        format!("{}/rest/json/cves/2.0", self.base_url)
    }

    pub fn kev_url(&self) -> String {
        format!("{}/kev.json", self.base_url)
    }

    pub fn set_cves(&self, items: Vec<Value>) {
        *self.shared.cves.lock().unwrap() = items;
    }

    /// Every NVD query string so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// An NVD item: one vulnerable CPE criterion with optional bounds
/// (`versionStartIncluding`, `versionStartExcluding`, `versionEndIncluding`,
/// `versionEndExcluding`).
pub fn nvd_item(
    id: &str,
    summary: &str,
    score: f64,
    criteria: &str,
    bounds: &[(&str, &str)],
) -> Value {
    let mut cpe_match = json!({
        "vulnerable": true,
        "criteria": criteria,
        "matchCriteriaId": "00000000-0000-4000-8000-000000000000",
    });
    for (k, v) in bounds {
        cpe_match[*k] = json!(v);
    }
    let severity = match score {
        s if s >= 9.0 => "CRITICAL",
        s if s >= 7.0 => "HIGH",
        s if s >= 4.0 => "MEDIUM",
        _ => "LOW",
    };
    json!({"cve": {
        "id": id,
        "sourceIdentifier": "test@example.invalid",
        "published": "2099-01-02T03:04:05.000",
        "lastModified": "2099-01-03T03:04:05.000",
        "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": summary}],
        "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
            "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                         "baseScore": score, "baseSeverity": severity}}]},
        "configurations": [{"nodes": [{"operator": "OR", "negate": false, "cpeMatch": [cpe_match]}]}],
        "references": [],
    }})
}
