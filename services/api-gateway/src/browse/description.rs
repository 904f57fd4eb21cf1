//! The whole API's OpenAPI document: the gateway's own part and each service's `/openapi.json`,
//! merged and kept for a while. It also tells the browsable pages what a path accepts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::state::Gateway;

/// How long a complete document is kept; a partial one (a service did not answer) is retried
/// soon.
const COMPLETE_FOR: Duration = Duration::from_secs(300);
const PARTIAL_FOR: Duration = Duration::from_secs(5);

pub const TITLE: &str = "ClientSt0r API";

/// The merged document and until when it is fresh.
type Kept = (Instant, Arc<Value>);

#[derive(Default)]
pub struct DescriptionCache {
    kept: std::sync::Mutex<Option<Kept>>,
    /// Held by the one request that rebuilds the document.
    rebuilding: Mutex<()>,
}

impl DescriptionCache {
    fn kept(&self) -> Option<Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The document; when it is out of date, one request rebuilds it (waiting for the
    /// services, up to their timeout) while the others keep using the old one.
    pub async fn get(&self, gateway: &Gateway) -> Arc<Value> {
        let fresh = |kept: &Option<Kept>| {
            kept.as_ref()
                .filter(|(until, _)| *until > Instant::now())
                .map(|(_, document)| document.clone())
        };
        let kept = self.kept();
        if let Some(document) = fresh(&kept) {
            return document;
        }
        let _rebuilding = match (self.rebuilding.try_lock(), kept) {
            (Ok(guard), _) => guard,
            (Err(_), Some((_, stale))) => return stale,
            (Err(_), None) => self.rebuilding.lock().await,
        };
        // Rebuilt by another request while this one waited.
        if let Some(document) = fresh(&self.kept()) {
            return document;
        }
        let (document, complete) = build(gateway).await;
        let document = Arc::new(document);
        let keep = if complete { COMPLETE_FOR } else { PARTIAL_FOR };
        *self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now() + keep, document.clone()));
        document
    }
}

/// The services' base URLs, each once.
fn services(gateway: &Gateway) -> Vec<String> {
    let mut urls: Vec<String> = gateway.upstreams.values().cloned().collect();
    urls.sort();
    urls.dedup();
    urls
}

async fn build(gateway: &Gateway) -> (Value, bool) {
    let fetches = services(gateway).into_iter().map(|base| async move {
        let url = format!("{}/openapi.json", base.trim_end_matches('/'));
        let answer = gateway
            .client
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                response.json::<Value>().await.map_err(|e| e.to_string())
            }
            Ok(response) => Err(format!("status {}", response.status())),
            Err(error) => Err(error.to_string()),
        }
        .map_err(|error| tracing::warn!(%url, %error, "API description of a service unavailable"))
        .ok()
    });
    let parts = futures_util::future::join_all(fetches).await;
    let complete = parts.iter().all(Option::is_some);
    let documents: Vec<Value> = parts.into_iter().flatten().collect();
    (document_of(&documents), complete)
}

/// The merged document of the gateway's part and `services`' documents.
pub fn document_of(services: &[Value]) -> Value {
    let mut own = clientstor_runtime::openapi::Spec::new();
    crate::routes::openapi(&mut own);
    clientstor_runtime::openapi::merge(TITLE, own, services)
}

/// The resources the API root lists: every path with a `GET` and no parameter, with that
/// `GET`.
pub fn resources(document: &Value) -> Vec<(&str, &Value)> {
    document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, _)| !path.contains('{') && path.len() > "/api/v1/".len())
        .filter_map(|(path, item)| Some((path.as_str(), item.get("get")?)))
        .collect()
}

/// Static segments matched, the template, its parameters.
type Match<'d> = (usize, &'d str, Vec<(String, String)>);

/// The path template of `path` (`/api/v1/assets/7/` → `/api/v1/assets/{id}/`) with its
/// parameters; the most specific template wins (`breach-scan/` over `{id}/`).
pub fn template<'d>(document: &'d Value, path: &str) -> Option<(&'d str, Vec<(String, String)>)> {
    let path = canonical(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<Match<'d>> = None;
    for template in document["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let mut fixed = 0;
        let matches = parts.iter().zip(&segments).all(|(part, segment)| {
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => {
                    params.push((name.to_string(), segment.to_string()));
                    !segment.is_empty()
                }
                None => {
                    fixed += 1;
                    part == segment
                }
            }
        });
        if matches && best.as_ref().is_none_or(|(f, _, _)| fixed > *f) {
            best = Some((fixed, template.as_str(), params));
        }
    }
    best.map(|(_, template, params)| (template, params))
}

/// `/api/assets` → `/api/v1/assets/`.
pub fn canonical(path: &str) -> String {
    let path = match path.strip_prefix("/api/v1/") {
        Some(_) => path.to_string(),
        None => match path.strip_prefix("/api/") {
            Some(rest) => format!("/api/v1/{rest}"),
            None => path.to_string(),
        },
    };
    if path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    }
}

/// `$ref`s resolved (one level at a time, as used).
pub fn resolve<'d>(document: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .unwrap_or(schema),
        None => schema,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_most_specific_template() {
        let document = json!({ "paths": {
            "/api/v1/passwords/": {}, "/api/v1/passwords/{id}/": {},
            "/api/v1/passwords/breach-scan/": {}, "/api/v1/passwords/{id}/otp/": {}
        }});
        let (t, p) = template(&document, "/api/v1/passwords/12/").unwrap();
        assert_eq!(
            (t, p),
            ("/api/v1/passwords/{id}/", vec![("id".into(), "12".into())])
        );
        assert_eq!(
            template(&document, "/api/passwords/breach-scan").unwrap().0,
            "/api/v1/passwords/breach-scan/"
        );
        assert_eq!(
            template(&document, "/api/v1/passwords/12/otp/").unwrap().0,
            "/api/v1/passwords/{id}/otp/"
        );
        assert!(template(&document, "/api/v1/nothing/").is_none());
    }
}
