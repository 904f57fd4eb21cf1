//! Starts the gateway, inventory and the webhook dispatcher in this process on ephemeral ports,
//! with a database and an exchange of the test's own, and a demo organization, owner and key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

pub mod processes;

use api_gateway::RunningGateway;
use clientstor_config::Service;
use clientstor_runtime::Running;
use clientstor_testkit::{FaultProxy, TestEnv, poll_until};
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

pub struct Stack {
    pub env: TestEnv,
    pub gateway: RunningGateway,
    pub inventory: Running,
    pub webhooks: Running,
    pub vault: Running,
    pub monitor: Running,
    pub rmm: Running,
    pub key: String,
    pub org_id: i64,
    pub http: reqwest::Client,
    /// Present when inventory reaches RabbitMQ through a fault proxy.
    pub amqp_proxy: Option<FaultProxy>,
}

/// A whole number from the environment (a test's size, e.g. `RELIABILITY_LOAD_SECONDS`), or
/// `default` when unset or not a number.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs `api-gateway admin …` against a running gateway's database; returns the printed lines.
pub async fn admin(gateway: &RunningGateway, args: &[&str]) -> Vec<String> {
    admin_with(gateway.context.clone(), args).await
}

/// Runs `api-gateway admin …` with a gateway context (its database and settings).
pub async fn admin_with(context: clientstor_runtime::Context, args: &[&str]) -> Vec<String> {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: api_gateway::admin::AdminCommand,
    }
    let command = Cli::try_parse_from(std::iter::once("admin").chain(args.iter().copied()))
        .unwrap()
        .command;
    let state = api_gateway::Gateway::new(context).unwrap();
    api_gateway::admin::run(&state, command).await.unwrap()
}

/// The demo organization "Acme Corp" (`acme-corp`), its owner and an owner key, made with
/// `api-gateway admin`; returns the key once the organization has reached, through the bus,
/// the services that keep a copy of it.
pub async fn demo_organization(context: clientstor_runtime::Context) -> String {
    let database_url = context
        .settings
        .database_url(Service::Gateway)
        .expose()
        .to_string();
    let mut key = String::new();
    for args in [
        &["org", "create", "--name", "Acme Corp"][..],
        &["user", "create", "--email", "owner@acme.test"],
        &[
            "membership",
            "create",
            "--user",
            "owner@acme.test",
            "--org",
            "acme-corp",
            "--role",
            "owner",
        ],
        &[
            "key",
            "create",
            "--user",
            "owner@acme.test",
            "--org",
            "acme-corp",
        ],
    ] {
        let lines = admin_with(context.clone(), args).await;
        key = lines.last().cloned().unwrap_or_default();
    }
    for schema in ["inventory", "webhooks", "rmm"] {
        let sql =
            format!("SELECT count(*) AS n FROM {schema}.organizations WHERE name = 'Acme Corp'");
        poll_until(
            "organization.created to reach the services",
            Duration::from_secs(30),
            || async { count_at(&database_url, &sql).await.filter(|n| *n > 0) },
        )
        .await;
    }
    key
}

/// The count a `SELECT count(*) AS n …` returns; `None` when the database cannot answer.
pub async fn count_at(database_url: &str, sql: &str) -> Option<i64> {
    use diesel_async::AsyncConnection as _;
    let mut conn = diesel_async::AsyncPgConnection::establish(database_url)
        .await
        .ok()?;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .ok()
        .map(|c| c.n)
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Stack {
    pub async fn start(proxy_inventory_amqp: bool) -> Stack {
        Self::start_full(proxy_inventory_amqp, &[]).await
    }

    /// A stack whose services all get `overrides` (for example raised rate limits).
    pub async fn start_with(overrides: &[(&str, &str)]) -> Stack {
        Self::start_full(false, overrides).await
    }

    async fn start_full(proxy_inventory_amqp: bool, overrides: &[(&str, &str)]) -> Stack {
        let mut env = TestEnv::new(&[
            (Service::Gateway, &api_gateway::MIGRATIONS),
            (Service::Inventory, &inventory::MIGRATIONS),
            (Service::Webhooks, &webhook_dispatcher::MIGRATIONS),
            (Service::Vault, &vault::MIGRATIONS),
            (Service::Monitor, &monitor_worker::MIGRATIONS),
            (Service::Rmm, &rmm_sync::MIGRATIONS),
        ])
        .await;
        // Receivers in tests listen on loopback.
        env.overrides
            .push(("outbound.allow_private".into(), "true".into()));
        env.overrides
            .push(("webhooks.retry_schedule".into(), "0,1s,1s,2s".into()));
        env.overrides.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let amqp_proxy = if proxy_inventory_amqp {
            Some(FaultProxy::to("127.0.0.1:5672").await)
        } else {
            None
        };
        let inventory_amqp = amqp_proxy
            .as_ref()
            .map(|p| env.bus.url.replace("127.0.0.1:5672", &p.addr.to_string()));
        let mut inventory_extra: Vec<(&str, &str)> = Vec::new();
        if let Some(url) = inventory_amqp.as_deref() {
            inventory_extra.push(("amqp.url", url));
        }
        let inventory = clientstor_runtime::start(
            &inventory::definition(),
            env.settings(Service::Inventory, &inventory_extra),
        )
        .await
        .unwrap();
        let webhooks = clientstor_runtime::start(
            &webhook_dispatcher::definition(),
            env.settings(Service::Webhooks, &[]),
        )
        .await
        .unwrap();
        let vault =
            clientstor_runtime::start(&vault::definition(), env.settings(Service::Vault, &[]))
                .await
                .unwrap();
        let monitor = clientstor_runtime::start(
            &monitor_worker::definition(),
            env.settings(Service::Monitor, &[]),
        )
        .await
        .unwrap();
        let rmm =
            clientstor_runtime::start(&rmm_sync::definition(), env.settings(Service::Rmm, &[]))
                .await
                .unwrap();
        let inventory_url = format!("http://{}", inventory.addr);
        let webhooks_url = format!("http://{}", webhooks.addr);
        let vault_url = format!("http://{}", vault.addr);
        let monitor_url = format!("http://{}", monitor.addr);
        let rmm_url = format!("http://{}", rmm.addr);
        let gateway = api_gateway::start(env.settings(
            Service::Gateway,
            &[
                ("gateway.upstreams.inventory", &inventory_url),
                ("gateway.upstreams.webhooks", &webhooks_url),
                ("gateway.upstreams.vault", &vault_url),
                ("gateway.upstreams.monitor", &monitor_url),
                ("gateway.upstreams.rmm", &rmm_url),
            ],
        ))
        .await
        .unwrap();

        // Consumers declare their queues when they connect; wait for them so the first events route.
        for addr in [
            inventory.addr,
            webhooks.addr,
            vault.addr,
            monitor.addr,
            rmm.addr,
        ] {
            poll_until(
                "services to be ready",
                Duration::from_secs(30),
                || async move {
                    let response = reqwest::get(format!("http://{addr}/readyz")).await.ok()?;
                    response.status().is_success().then_some(())
                },
            )
            .await;
        }
        let key = demo_organization(gateway.context.clone()).await;
        let mut conn = env.db.connect().await;
        let org_id =
            diesel::sql_query("SELECT id AS n FROM gateway.organizations WHERE slug = 'acme-corp'")
                .get_result::<Count>(&mut conn)
                .await
                .unwrap()
                .n;
        Stack {
            env,
            gateway,
            inventory,
            webhooks,
            vault,
            monitor,
            rmm,
            key,
            org_id,
            http: reqwest::Client::new(),
            amqp_proxy,
        }
    }

    /// `Some(n)` when the query's count is positive.
    pub async fn count(&self, sql: &str) -> Option<i64> {
        self.count_all(sql).await.filter(|n| *n > 0)
    }

    pub async fn count_all(&self, sql: &str) -> Option<i64> {
        count_at(&self.env.db.url, sql).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Any method with the stack's key; `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Stops the vault and starts it again on the same address with extra settings (a new
    /// master key, for example).
    pub async fn restart_vault(self, extra: &[(&str, &str)]) -> Stack {
        let listen = self.vault.addr.to_string();
        let mut settings: Vec<(&str, &str)> = vec![("vault.listen", &listen)];
        settings.extend_from_slice(extra);
        self.vault.stop().await;
        let vault = clientstor_runtime::start(
            &vault::definition(),
            self.env.settings(Service::Vault, &settings),
        )
        .await
        .unwrap();
        Stack { vault, ..self }
    }

    /// Another gateway on the same database and exchange, with extra settings.
    pub async fn second_gateway(&self, extra: &[(&str, &str)]) -> RunningGateway {
        let inventory_url = format!("http://{}", self.inventory.addr);
        let webhooks_url = format!("http://{}", self.webhooks.addr);
        let vault_url = format!("http://{}", self.vault.addr);
        let monitor_url = format!("http://{}", self.monitor.addr);
        let rmm_url = format!("http://{}", self.rmm.addr);
        let mut settings: Vec<(&str, &str)> = vec![
            ("gateway.upstreams.inventory", &inventory_url),
            ("gateway.upstreams.webhooks", &webhooks_url),
            ("gateway.upstreams.vault", &vault_url),
            ("gateway.upstreams.monitor", &monitor_url),
            ("gateway.upstreams.rmm", &rmm_url),
        ];
        settings.extend_from_slice(extra);
        api_gateway::start(self.env.settings(Service::Gateway, &settings))
            .await
            .unwrap()
    }

    /// A key made by `admin key create` with extra arguments (`--role`, `--scope`, `--org`…).
    pub async fn key_for(&self, user: &str, org: &str, extra: &[&str]) -> String {
        let mut args = vec!["key", "create", "--user", user, "--org", org];
        args.extend_from_slice(extra);
        admin(&self.gateway, &args).await.last().unwrap().clone()
    }

    pub async fn get_as(&self, key: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_as(
        &self,
        key: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
        self.inventory.stop().await;
        self.webhooks.stop().await;
        self.vault.stop().await;
        self.monitor.stop().await;
        self.rmm.stop().await;
    }
}

#[derive(diesel::QueryableByName)]
struct OutboxEvent {
    #[diesel(sql_type = diesel::sql_types::Text)]
    event_type: String,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    payload: Vec<u8>,
}

impl Stack {
    /// The first event inventory ever published, as stored in its outbox.
    pub async fn first_outbox_event(&self) -> (String, Vec<u8>) {
        let mut conn = self.env.db.connect().await;
        let row: OutboxEvent = diesel::sql_query(
            "SELECT event_type, payload FROM inventory.outbox ORDER BY id LIMIT 1",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        (row.event_type, row.payload)
    }

    /// Publishes bytes to the test's exchange as a service would, confirmed by the broker.
    pub async fn publish_raw(&self, routing_key: &str, payload: &[u8]) {
        use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
        use lapin::types::ShortString;
        let connection =
            lapin::Connection::connect(&self.env.bus.url, lapin::ConnectionProperties::default())
                .await
                .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let confirm = channel
            .basic_publish(
                ShortString::from(self.env.bus.exchange.as_str()),
                ShortString::from(routing_key),
                BasicPublishOptions::default(),
                payload,
                lapin::BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
        let _ = connection.close(200, ShortString::from("done")).await;
    }
}
