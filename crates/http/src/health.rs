//! `/healthz` (the process answers), `/readyz` (its dependencies answer) and `/metrics`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::metrics::HttpMetrics;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One named readiness check, for example the database or the broker.
#[derive(Clone)]
pub struct ReadinessCheck {
    name: &'static str,
    check: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name,
            check: Arc::new(move || Box::pin(check())),
        }
    }
}

/// All checks of a service; `/readyz` is ready only when every one passes.
#[derive(Clone, Default)]
pub struct Readiness(pub Vec<ReadinessCheck>);

impl Readiness {
    pub async fn report(&self) -> (bool, Value) {
        let results = futures_util::future::join_all(self.0.iter().map(|c| (c.check)())).await;
        let mut ready = true;
        let mut checks = Map::new();
        for (check, result) in self.0.iter().zip(results) {
            let text = match result {
                Ok(()) => "ok".to_string(),
                Err(reason) => {
                    ready = false;
                    reason
                }
            };
            checks.insert(check.name.to_string(), Value::String(text));
        }
        (
            ready,
            json!({ "status": if ready { "ready" } else { "not_ready" }, "checks": checks }),
        )
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    let (ready, body) = readiness.report().await;
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(metrics: web::Data<HttpMetrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

/// Registers the three operational endpoints. Needs `Data<Readiness>` and `Data<HttpMetrics>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}
