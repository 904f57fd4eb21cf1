//! The six services as processes of their own, started from their built binaries (`<binary>
//! serve`, as in production), for tests that kill a service with SIGKILL, restart it, or read its
//! memory: configured through the environment, with a demo organization, owner and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clientstor_config::Service;
use clientstor_testkit::{free_port, poll_until};

/// Where the services keep their data and exchange events.
pub struct Infrastructure {
    pub database_url: String,
    pub amqp_url: String,
    pub exchange: String,
    pub queue_prefix: String,
}

/// The directory of the built service binaries: the profile directory of the running test
/// (`target/<profile>/deps/<test>` → `target/<profile>`). `make test` and `make reliability`
/// build them (`cargo build --bins`) before the tests.
pub fn binaries() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    for service in Service::ALL {
        assert!(
            dir.join(service.binary()).is_file(),
            "{} is missing from {}: build the services first (`cargo build --bins`, as \
             scripts/test.sh does)",
            service.binary(),
            dir.display()
        );
    }
    dir
}

struct Process {
    service: Service,
    /// The port `/readyz` answers on (the gateway's admin port).
    ready_port: u16,
    child: Option<Child>,
    log: PathBuf,
}

pub struct ProcessStack {
    binaries: PathBuf,
    vars: Vec<(String, String)>,
    processes: Vec<Process>,
    logs: PathBuf,
    /// The gateway's public base URL.
    pub gateway: String,
    pub key: String,
    pub http: reqwest::Client,
    database_url: String,
}

fn migrations(service: Service) -> &'static clientstor_db::EmbeddedMigrations {
    match service {
        Service::Gateway => &api_gateway::MIGRATIONS,
        Service::Inventory => &inventory::MIGRATIONS,
        Service::Vault => &vault::MIGRATIONS,
        Service::Monitor => &monitor_worker::MIGRATIONS,
        Service::Webhooks => &webhook_dispatcher::MIGRATIONS,
        Service::Rmm => &rmm_sync::MIGRATIONS,
    }
}

fn random_key() -> String {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `section.key` → `CLIENTSTOR_SECTION__KEY`, as the configuration reads the environment.
fn variable(key: &str) -> String {
    format!("CLIENTSTOR_{}", key.replace('.', "__").to_ascii_uppercase())
}

impl ProcessStack {
    /// Migrates every schema, starts the six services from their binaries in [`binaries`],
    /// waits until each is ready, and makes the demo key. `overrides` are settings for every
    /// service, e.g. `("webhooks.retry_schedule", "0,2s")`.
    pub async fn start(
        infrastructure: &Infrastructure,
        overrides: &[(&str, &str)],
    ) -> ProcessStack {
        clientstor_runtime::cli::init_process();
        for service in Service::ALL {
            clientstor_db::run_migrations(
                &infrastructure.database_url,
                service.section(),
                migrations(service),
            )
            .await
            .unwrap();
        }
        let ports: BTreeMap<&str, u16> = Service::ALL
            .iter()
            .map(|s| (s.section(), free_port()))
            .collect();
        let admin_port = free_port();
        let master_key = random_key();
        let mut settings: Vec<(String, String)> = vec![
            ("database.url".into(), infrastructure.database_url.clone()),
            ("database.pool_size".into(), "8".into()),
            ("amqp.url".into(), infrastructure.amqp_url.clone()),
            ("amqp.exchange".into(), infrastructure.exchange.clone()),
            (
                "amqp.queue_prefix".into(),
                infrastructure.queue_prefix.clone(),
            ),
            ("gateway.internal_secret".into(), random_key()),
            ("gateway.key_pepper".into(), random_key()),
            ("vault.master_key".into(), master_key.clone()),
            ("rmm.master_key".into(), master_key),
            ("inventory.nvd_url".into(), String::new()),
            ("inventory.kev_url".into(), String::new()),
            ("outbound.allow_private".into(), "true".into()),
            (
                "gateway.admin_listen".into(),
                format!("127.0.0.1:{admin_port}"),
            ),
        ];
        for (section, port) in &ports {
            settings.push((format!("{section}.listen"), format!("127.0.0.1:{port}")));
            if *section != "gateway" {
                settings.push((
                    format!("gateway.upstreams.{section}"),
                    format!("http://127.0.0.1:{port}"),
                ));
            }
        }
        settings.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let logs = std::env::temp_dir().join(format!(
            "clientstor-processes-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&logs).unwrap();
        let mut stack = ProcessStack {
            binaries: binaries(),
            vars: settings
                .iter()
                .map(|(k, v)| (variable(k), v.clone()))
                .collect(),
            processes: Service::ALL
                .iter()
                .map(|&service| Process {
                    service,
                    ready_port: if service == Service::Gateway {
                        admin_port
                    } else {
                        ports[service.section()]
                    },
                    child: None,
                    log: logs.join(format!("{}.log", service.binary())),
                })
                .collect(),
            logs,
            gateway: format!("http://127.0.0.1:{}", ports["gateway"]),
            key: String::new(),
            http: reqwest::Client::new(),
            database_url: infrastructure.database_url.clone(),
        };
        for service in Service::ALL {
            stack.spawn(service);
        }
        for service in Service::ALL {
            stack.wait_ready(service, Duration::from_secs(60)).await;
        }
        let pairs: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let gateway_settings =
            clientstor_config::load_from(Service::Gateway, &BTreeMap::new(), &pairs).unwrap();
        let context = clientstor_runtime::Context::new(Service::Gateway, gateway_settings).unwrap();
        stack.key = crate::demo_organization(context).await;
        stack
    }

    fn process(&mut self, service: Service) -> &mut Process {
        self.processes
            .iter_mut()
            .find(|p| p.service == service)
            .unwrap()
    }

    fn spawn(&mut self, service: Service) {
        let binary = self.binaries.join(service.binary());
        let vars = self.vars.clone();
        let process = self.process(service);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&process.log)
            .unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(vars)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        process.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush; whatever was in flight is cut off.
    pub fn kill(&mut self, service: Service) {
        let process = self.process(service);
        if let Some(mut child) = process.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts a killed service again with the same settings and port.
    pub fn restart(&mut self, service: Service) {
        self.spawn(service);
    }

    /// `Some(true)` when `/readyz` answers 200, `Some(false)` for any other answer, `None`
    /// when nothing answers.
    pub async fn ready(&self, service: Service) -> Option<bool> {
        let port = self
            .processes
            .iter()
            .find(|p| p.service == service)
            .unwrap()
            .ready_port;
        let response = self
            .http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        Some(response.status() == 200)
    }

    pub async fn wait_ready(&self, service: Service, deadline: Duration) {
        let what = format!(
            "{} to be ready (log: {})",
            service.binary(),
            self.log_tail(service)
        );
        poll_until(&what, deadline, || async {
            (self.ready(service).await == Some(true)).then_some(())
        })
        .await;
    }

    /// The resident set of the service's process, in KiB (`VmRSS` in `/proc/<pid>/status`).
    pub fn rss_kib(&self, service: Service) -> u64 {
        let process = self
            .processes
            .iter()
            .find(|p| p.service == service)
            .unwrap();
        let pid = process.child.as_ref().unwrap().id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// The last lines of the service's log, for failure messages.
    pub fn log_tail(&self, service: Service) -> String {
        let path = self.logs.join(format!("{}.log", service.binary()));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Counts the services' log lines containing `needle` (e.g. a secret that must never appear).
    pub fn log_mentions(&self, needle: &str) -> usize {
        Service::ALL
            .iter()
            .map(|s| {
                std::fs::read_to_string(self.logs.join(format!("{}.log", s.binary())))
                    .unwrap_or_default()
                    .matches(needle)
                    .count()
            })
            .sum()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    /// `GET path` through the gateway with the demo key.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    /// `Some(n)` when the query's count is positive (`None` also when the database is down).
    pub async fn count(&self, sql: &str) -> Option<i64> {
        crate::count_at(&self.database_url, sql)
            .await
            .filter(|n| *n > 0)
    }
}

impl Drop for ProcessStack {
    fn drop(&mut self) {
        for process in &mut self.processes {
            if let Some(mut child) = process.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // A failing test keeps the services' logs for a look.
        if std::thread::panicking() {
            eprintln!("the services' logs are kept in {}", self.logs.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.logs);
        }
    }
}
