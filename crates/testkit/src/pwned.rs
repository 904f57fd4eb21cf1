//! A local Pwned Passwords range server: `GET /range/{5 hex}` answers `SUFFIX:COUNT` lines with
//! CRLF, padded with `:0` rows like the real service, for the passwords the test declares
//! breached. It records every requested path and whether `Add-Padding` was asked for.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Clone, Default)]
struct Shared {
    /// (SHA-1 upper hex, count)
    breached: Arc<Vec<(String, u64)>>,
    requests: Arc<Mutex<Vec<(String, bool)>>>,
}

pub struct PwnedServer {
    pub addr: std::net::SocketAddr,
    shared: Shared,
    handle: actix_web::dev::ServerHandle,
}

fn sha1_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

async fn range(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let prefix = req
        .match_info()
        .get("prefix")
        .unwrap_or_default()
        .to_string();
    let padded = req.headers().contains_key("add-padding");
    shared
        .requests
        .lock()
        .unwrap()
        .push((prefix.clone(), padded));
    if prefix.len() != 5 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return HttpResponse::BadRequest().body("The hash prefix was not in a valid format");
    }
    let prefix = prefix.to_ascii_uppercase();
    let mut lines: Vec<String> = shared
        .breached
        .iter()
        .filter(|(hash, _)| hash.starts_with(&prefix))
        .map(|(hash, count)| format!("{}:{count}", &hash[5..]))
        .collect();
    // Padding rows: suffixes derived from the prefix, count 0.
    for i in 0..800 {
        lines.push(format!("{}:0", &sha1_hex(&format!("{prefix}-{i}"))[5..]));
    }
    lines.sort();
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(lines.join("\r\n"))
}

impl PwnedServer {
    /// Serves the given passwords as breached, with their counts.
    pub async fn start(breached: &[(&str, u64)]) -> PwnedServer {
        let shared = Shared {
            breached: Arc::new(
                breached
                    .iter()
                    .map(|(password, count)| (sha1_hex(password), *count))
                    .collect(),
            ),
            requests: Arc::default(),
        };
        let data = web::Data::new(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/range/{prefix}", web::get().to(range))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        PwnedServer {
            addr,
            shared,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requested prefixes, each with whether padding was asked for.
    pub fn requests(&self) -> Vec<(String, bool)> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
