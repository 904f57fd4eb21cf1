use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A scripted answer: status and extra headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    script: Arc<Mutex<std::collections::VecDeque<Reply>>>,
}

/// A local HTTP server standing in for a webhook receiver: it records every request and
/// answers with a status the test can change.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
    handle: actix_web::dev::ServerHandle,
}

async fn record(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    shared.requests.lock().unwrap().push(Received {
        path: req.path().to_string(),
        headers,
        body: body.to_vec(),
        at: std::time::Instant::now(),
    });
    let reply = shared.script.lock().unwrap().pop_front().unwrap_or(Reply {
        status: shared.status.load(Ordering::Relaxed),
        headers: Vec::new(),
    });
    let status = actix_web::http::StatusCode::from_u16(reply.status)
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &reply.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response.body("ok")
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Shared {
            requests: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            script: Arc::default(),
        };
        let data = web::Data::new(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(record))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            addr,
            shared,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many requests arrived so far (cheaper than `requests()`).
    pub fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The next answers, in order; after them, the `respond_with` status.
    pub fn script(&self, replies: &[(u16, &[(&str, &str)])]) {
        let mut script = self.shared.script.lock().unwrap();
        for (status, headers) in replies {
            let headers = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            script.push_back(Reply {
                status: *status,
                headers,
            });
        }
    }

    pub fn respond_with(&self, status: u16) {
        self.shared.status.store(status, Ordering::Relaxed);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}
