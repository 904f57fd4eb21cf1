//! Local servers that speak the documented wire formats of four RMM platforms (ConnectWise
//! Automate, Datto RMM, NinjaOne, Syncro), for end-to-end tests of the RMM sync. The test
//! declares devices once as [`FakeDevice`]s; each server renders them in its platform's format,
//! enforces its platform's authentication and paging, and injects the [`Faults`] asked for.
//!
//! Shared behaviour: every request is recorded; "API calls" are the authenticated calls that
//! are not token calls; the first token can be made to expire after a number of API calls; one
//! API call can be answered 429 with `Retry-After: 1`; device-list requests can be held.

mod automate;
mod datto;
mod ninjaone;
mod syncro;
#[cfg(test)]
mod tests;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::Utc;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Automate,
    Datto,
    NinjaOne,
    Syncro,
}

/// One device as the test declares it; each server renders it in its platform's format.
#[derive(Debug, Clone)]
pub struct FakeDevice {
    pub id: u64,
    pub hostname: String,
    pub serial: String,
    pub manufacturer: String,
    pub model: String,
    /// e.g. "Microsoft Windows 11 Pro x64"
    pub os: String,
    /// e.g. "10.0.22631" (NinjaOne: the `buildNumber`; Syncro: `os.build`)
    pub os_version: String,
    /// LAN IPv4
    pub ip: String,
    /// "94-40-C9-3A-55-10" style
    pub mac: String,
    pub online: bool,
    /// epoch seconds
    pub last_seen: i64,
    pub client_id: u64,
    pub client_name: String,
    /// (latitude, longitude)
    pub coordinates: Option<(f64, f64)>,
}

impl FakeDevice {
    /// A plausible device numbered `id` of client (`client_id`, `client_name`): hostname
    /// "HOST-{id}", serial "SN{id:08}", a MAC derived from the id, online, last seen now, no
    /// coordinates.
    pub fn numbered(id: u64, client_id: u64, client_name: &str) -> Self {
        let b = id.to_be_bytes();
        FakeDevice {
            id,
            hostname: format!("HOST-{id}"),
            serial: format!("SN{id:08}"),
            manufacturer: "Dell Inc.".to_string(),
            model: "OptiPlex 7090".to_string(),
            os: "Microsoft Windows 11 Pro x64".to_string(),
            os_version: "10.0.22631".to_string(),
            ip: format!(
                "10.{}.{}.{}",
                client_id % 250 + 1,
                (id / 250) % 250,
                id % 250 + 1
            ),
            mac: format!("02-00-{:02X}-{:02X}-{:02X}-{:02X}", b[4], b[5], b[6], b[7]),
            online: true,
            last_seen: Utc::now().timestamp(),
            client_id,
            client_name: client_name.to_string(),
            coordinates: None,
        }
    }

    /// The external id our side stores: Datto the device `uid` ("dev-uid-{id}"), the others the
    /// id as a decimal string.
    pub fn external_id(&self, platform: Platform) -> String {
        match platform {
            Platform::Datto => datto::uid(self.id),
            Platform::Automate | Platform::NinjaOne | Platform::Syncro => self.id.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Server page size for Datto (`max` is capped to it) and Syncro (`meta.per_page`);
    /// Automate and NinjaOne honour the client's `pageSize` but cap it at this when set
    /// (0 = no cap / default 25 for Syncro, 250 for Datto).
    pub page_size: usize,
    /// The first issued token stops working after this many authenticated API calls (those
    /// calls then answer 401 until the client logs in again; new tokens work). Not for Syncro,
    /// whose static token never expires.
    pub token_expires_after: Option<usize>,
    /// The Nth authenticated API call (1-based, counting all API calls) answers 429 with
    /// `Retry-After: 1` once.
    pub rate_limit_at: Option<usize>,
    /// The device with this id is rendered with its hostname field (`ComputerName`,
    /// `hostname`, `systemName`, `name`) as a JSON object `{"bad": true}`.
    pub malformed_id: Option<u64>,
}

/// A running fake platform.
pub struct RmmPlatform {
    /// "http://127.0.0.1:PORT", no trailing slash.
    pub base_url: String,
    shared: web::Data<Shared>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Default)]
struct State {
    /// Sorted by id.
    devices: Vec<FakeDevice>,
    /// Issued token → API calls made with it.
    tokens: HashMap<String, usize>,
    first_token: Option<String>,
    logins: usize,
    api_calls: usize,
    rate_limited: usize,
    requests: Vec<String>,
}

/// What a server shares between its requests.
struct Shared {
    platform: Platform,
    faults: Faults,
    base_url: OnceLock<String>,
    hold: AtomicBool,
    state: Mutex<State>,
}

/// The outcome of checking an API call's credentials.
enum Gate {
    Pass,
    Denied,
    Throttled,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or_default()
    }

    fn devices(&self) -> Vec<FakeDevice> {
        self.state().devices.clone()
    }

    /// The hostname as rendered: a string, or `{"bad": true}` for the malformed device.
    fn hostname(&self, device: &FakeDevice) -> Value {
        if self.faults.malformed_id == Some(device.id) {
            json!({ "bad": true })
        } else {
            json!(device.hostname)
        }
    }

    /// Issues a new token and counts the login.
    fn issue_token(&self, prefix: &str) -> String {
        let mut state = self.state();
        state.logins += 1;
        let token = format!(
            "{prefix}-{}-{}",
            state.logins,
            uuid::Uuid::new_v4().simple()
        );
        state.tokens.insert(token.clone(), 0);
        state.first_token.get_or_insert_with(|| token.clone());
        token
    }

    /// Whether `token` is issued and not expired, without counting a call.
    fn token_valid(&self, token: &str) -> bool {
        let state = self.state();
        let first = state.first_token.as_deref() == Some(token);
        state
            .tokens
            .get(token)
            .is_some_and(|uses| !(first && self.expired(*uses)))
    }

    fn expired(&self, uses: usize) -> bool {
        self.faults.token_expires_after.is_some_and(|n| uses >= n)
    }

    /// Checks an issued token (the first one expires per `Faults`) and counts the API call.
    fn gate_token(&self, token: Option<&str>) -> Gate {
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(token) = token else {
            return Gate::Denied;
        };
        let first = state.first_token.as_deref() == Some(token);
        let Some(uses) = state.tokens.get_mut(token) else {
            return Gate::Denied;
        };
        if first && self.expired(*uses) {
            return Gate::Denied;
        }
        *uses += 1;
        self.count_call(state)
    }

    /// Counts an API call authorised by a static credential.
    fn gate_static(&self, authorised: bool) -> Gate {
        if !authorised {
            return Gate::Denied;
        }
        let mut state = self.state();
        self.count_call(&mut state)
    }

    fn count_call(&self, state: &mut State) -> Gate {
        state.api_calls += 1;
        if self.faults.rate_limit_at == Some(state.api_calls) {
            state.rate_limited += 1;
            Gate::Throttled
        } else {
            Gate::Pass
        }
    }

    /// Waits while the test holds device-list requests.
    async fn wait_while_held(&self) {
        while self.hold.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn dispatch(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), ToString::to_string);
    shared
        .state()
        .requests
        .push(format!("{} {target}", req.method()));
    match shared.platform {
        Platform::Automate => automate::handle(&req, &body, &shared).await,
        Platform::Datto => datto::handle(&req, &body, &shared).await,
        Platform::NinjaOne => ninjaone::handle(&req, &body, &shared).await,
        Platform::Syncro => syncro::handle(&req, &shared).await,
    }
}

impl RmmPlatform {
    pub async fn start(
        platform: Platform,
        devices: Vec<FakeDevice>,
        faults: Faults,
    ) -> RmmPlatform {
        let shared = web::Data::new(Shared {
            platform,
            faults,
            base_url: OnceLock::new(),
            hold: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        });
        shared.state().devices = sorted(devices);
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(dispatch))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let base_url = format!("http://{}", server.addrs()[0]);
        shared.base_url.set(base_url.clone()).unwrap();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        RmmPlatform {
            base_url,
            shared,
            handle,
        }
    }

    /// Replaces the device list (a device removed from it has vanished from the platform).
    pub fn set_devices(&self, devices: Vec<FakeDevice>) {
        self.shared.state().devices = sorted(devices);
    }

    /// The `credentials` object an integration must be configured with (fixed per platform;
    /// the secrets contain characters that need URL-encoding).
    pub fn credentials(&self) -> Value {
        match self.shared.platform {
            Platform::Automate => json!({
                "username": automate::USERNAME,
                "password": automate::PASSWORD,
                "client_id": automate::CLIENT_ID,
            }),
            Platform::Datto => {
                json!({ "api_key": datto::API_KEY, "api_secret": datto::API_SECRET })
            }
            Platform::NinjaOne => json!({
                "client_id": ninjaone::CLIENT_ID,
                "client_secret": ninjaone::CLIENT_SECRET,
            }),
            Platform::Syncro => json!({ "api_key": syncro::API_KEY }),
        }
    }

    /// Successful logins (token issued) so far; always 0 for Syncro.
    pub fn logins(&self) -> usize {
        self.shared.state().logins
    }

    /// 429 answers served so far.
    pub fn rate_limited(&self) -> usize {
        self.shared.state().rate_limited
    }

    /// Every request so far as "METHOD /path?query" in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.state().requests.clone()
    }

    /// While held, device-list requests (not logins, not detail calls) wait until released.
    pub fn hold(&self, on: bool) {
        self.shared.hold.store(on, Ordering::SeqCst);
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

fn sorted(mut devices: Vec<FakeDevice>) -> Vec<FakeDevice> {
    devices.sort_by_key(|d| d.id);
    devices
}
