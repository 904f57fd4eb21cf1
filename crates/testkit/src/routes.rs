//! A service's router against its own API description: every documented operation reaches a
//! handler and no other method of a documented path does.

use actix_web::http::Method;
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::web::ServiceConfig;

/// Panics naming the first operation the router and `document` disagree on. Handlers refuse
/// before doing anything (there is no principal), so a 404 or 405 can only be the router's.
pub async fn assert_router_matches(
    configure: fn(&mut ServiceConfig),
    document: &serde_json::Value,
) {
    let app = init_service(actix_web::App::new().configure(configure)).await;
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    assert!(!paths.is_empty(), "no paths described");
    for (path, item) in paths {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let request = TestRequest::default()
                .method(method.clone())
                .uri(&concrete)
                .to_request();
            let status = call_service(&app, request).await.status().as_u16();
            let documented = item.get(method.as_str().to_lowercase()).is_some();
            assert_eq!(
                documented,
                status != 404 && status != 405,
                "{method} {path}: {status}"
            );
        }
    }
}
