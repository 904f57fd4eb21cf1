//! What every connector shares on the wire: the guarded client, a retried call (429 waits for
//! `Retry-After`; a 5xx or a broken connection is tried again), a bounded body, JSON parsing
//! that names a non-JSON 200, and a session that logs in, refreshes its token before it
//! expires, and logs in again once when the platform answers 401.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clientstor_outbound::{OutboundError, Policy};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

/// Largest body read from a platform.
const MAX_BODY: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum CallError {
    #[error("the platform refused the credentials ({0})")]
    Unauthorized(String),
    #[error("the platform answered {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("the platform could not be reached: {0}")]
    Transport(String),
    #[error("the platform answered with something other than JSON: {0}")]
    NotJson(String),
    #[error("the address is not allowed: {0}")]
    Refused(String),
    #[error("the platform kept answering 429 (rate limited)")]
    RateLimited,
}

/// How hard a call tries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Tries of a call that fails with a 5xx or a transport error.
    pub attempts: u32,
    /// First pause between such tries; doubled each time.
    pub backoff: Duration,
    /// 429 answers waited out per call.
    pub rate_limited: u32,
    /// Longest `Retry-After` honoured; longer ones are cut to this.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(500),
            rate_limited: 5,
            max_wait: Duration::from_secs(120),
        }
    }
}

#[derive(Clone)]
pub struct Http {
    client: Client,
    policy: Arc<Policy>,
    retry: Retry,
}

/// A successful answer.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body as JSON; an HTML login page behind a proxy is reported as such.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let kind = if self.content_type.contains("json") {
                format!("invalid JSON ({e})")
            } else {
                format!("content type {:?}", self.content_type)
            };
            CallError::NotJson(kind)
        })
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or_default())
}

impl Http {
    pub fn new(policy: Arc<Policy>, timeout: Duration, retry: Retry) -> Result<Self, String> {
        let client = clientstor_outbound::client(policy.clone(), timeout, false)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            retry,
        })
    }

    /// Sends the request `build` makes (again for each try) and returns a 2xx answer.
    /// A 401 is returned at once as `Unauthorized`, for the session to log in again.
    pub async fn send(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Answer, CallError> {
        let mut failures = 0u32;
        let mut limited = 0u32;
        loop {
            let mut request = build(&self.client);
            // The run's trace continues at the platform, if it records W3C trace context.
            if let Some(trace) = clientstor_events::trace::current() {
                request = request.header("traceparent", trace.child().header());
            }
            let request = request
                .build()
                .map_err(|e| CallError::Transport(e.without_url().to_string()))?;
            // IP literals never reach the guarded resolver; check the address here too.
            self.policy
                .check_url(request.url().as_str())
                .await
                .map_err(|e| match e {
                    // A name that does not resolve is a reachability problem, not a refusal.
                    OutboundError::Unresolvable(_) => CallError::Transport(e.to_string()),
                    other => CallError::Refused(other.to_string()),
                })?;
            let outcome = self.client.execute(request).await;
            let wait = match outcome {
                Ok(response) if response.status().is_success() => {
                    let status = response.status();
                    let content_type = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let body = read_body(response).await?;
                    return Ok(Answer {
                        status,
                        content_type,
                        body,
                    });
                }
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    limited += 1;
                    if limited > self.retry.rate_limited {
                        return Err(CallError::RateLimited);
                    }
                    let wait = retry_after(&response)
                        .unwrap_or(self.retry.backoff * 2u32.saturating_pow(limited));
                    wait.min(self.retry.max_wait)
                }
                // A 403 is not retried as a login problem: Datto answers it to an IP it has
                // blocked after too many 429s, and logging in again would make that worse.
                Ok(response) if response.status() == StatusCode::UNAUTHORIZED => {
                    return Err(CallError::Unauthorized(format!(
                        "HTTP {}",
                        response.status().as_u16()
                    )));
                }
                Ok(response) if response.status().is_server_error() => {
                    failures += 1;
                    if failures >= self.retry.attempts {
                        return Err(status_error(response).await);
                    }
                    self.retry.backoff * 2u32.saturating_pow(failures - 1)
                }
                Ok(response) => return Err(status_error(response).await),
                Err(error) => {
                    failures += 1;
                    if failures >= self.retry.attempts {
                        return Err(CallError::Transport(error.without_url().to_string()));
                    }
                    self.retry.backoff * 2u32.saturating_pow(failures - 1)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<bytes::Bytes, CallError> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| CallError::Transport(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(CallError::Transport(format!(
                "the answer is larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The status and the start of the body, for the run's error list (never a credential: the
/// platform's error text only).
async fn status_error(response: reqwest::Response) -> CallError {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let detail: String = text.chars().take(200).collect();
    CallError::Status { status, detail }
}

/// A bearer token and when it stops working.
#[derive(Clone)]
pub struct Token {
    pub value: String,
    pub expires_at: Instant,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    pub fn expiring_in(value: String, seconds: u64) -> Self {
        let now = Instant::now();
        Self {
            value,
            expires_at: now
                .checked_add(Duration::from_secs(seconds))
                .unwrap_or(now + Duration::from_secs(365 * 86_400)),
        }
    }

    /// Still good for at least another minute (or for a tenth of a short lifetime).
    fn fresh(&self) -> bool {
        self.expires_at > Instant::now() + Duration::from_secs(60).min(self.margin())
    }

    fn margin(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now()) / 10
    }
}

/// How a platform hands out tokens.
pub trait Login: Send + Sync {
    fn login(&self, http: &Http) -> impl Future<Output = Result<Token, CallError>> + Send;
}

/// Calls made with a token: logged in on first use, renewed before it expires, and renewed
/// once more when the platform answers 401 (a token revoked or expired early).
pub struct Session<L> {
    pub http: Http,
    login: L,
    token: Option<Token>,
    /// Logins so far, reported by the connection test.
    pub logins: u32,
}

impl<L: Login> Session<L> {
    pub fn new(http: Http, login: L) -> Self {
        Self {
            http,
            login,
            token: None,
            logins: 0,
        }
    }

    async fn token(&mut self) -> Result<String, CallError> {
        if let Some(token) = &self.token
            && token.fresh()
        {
            return Ok(token.value.clone());
        }
        let token = self.login.login(&self.http).await?;
        self.logins += 1;
        let value = token.value.clone();
        self.token = Some(token);
        Ok(value)
    }

    /// Sends the request `build(client, token)` makes.
    pub async fn send(
        &mut self,
        build: impl Fn(&Client, &str) -> RequestBuilder,
    ) -> Result<Answer, CallError> {
        let token = self.token().await?;
        match self.http.send(|client| build(client, &token)).await {
            Err(CallError::Unauthorized(_)) => {
                self.token = None;
                let token = self.token().await?;
                self.http.send(|client| build(client, &token)).await
            }
            other => other,
        }
    }

    /// As [`Session::send`], the body parsed as JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &mut self,
        build: impl Fn(&Client, &str) -> RequestBuilder,
    ) -> Result<T, CallError> {
        self.send(build).await?.json()
    }
}
