use std::collections::BTreeMap;

use config::{Config, Environment, File, FileFormat};

use crate::{Secret, Service, Settings};

const PREFIX: &str = "CLIENTSTOR";
const DEFAULTS: &str = include_str!("default.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {setting}: {message}")]
    Invalid { setting: String, message: String },
    #[error("{0}")]
    Other(String),
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            setting: env_name(key),
            message: message.into(),
        }
    }
}

/// `gateway.rate_limit.per_minute` → `CLIENTSTOR_GATEWAY__RATE_LIMIT__PER_MINUTE`.
fn env_name(key: &str) -> String {
    format!("{PREFIX}_{}", key.replace('.', "__").to_uppercase())
}

/// Loads settings from the process environment for `service` and validates what it needs.
pub fn load(service: Service) -> Result<Settings, ConfigError> {
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    load_from(service, &vars, &[])
}

/// Loads settings from the given environment plus explicit overrides (`("amqp.exchange", "x")`).
/// Tests use this to run several services in one process with different settings.
pub fn load_from(
    service: Service,
    vars: &BTreeMap<String, String>,
    overrides: &[(&str, &str)],
) -> Result<Settings, ConfigError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
    if let Some(path) = vars.get("CLIENTSTOR_CONFIG_FILE") {
        builder = builder.add_source(File::with_name(path).required(true));
    }
    let env = Environment::with_prefix(PREFIX)
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("outbound.allowlist")
        .source(Some(
            vars.iter()
                .filter(|(k, _)| k.as_str() != "CLIENTSTOR_CONFIG_FILE" && !k.ends_with("_FILE"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
    builder = builder.add_source(env);
    for (name, path) in vars {
        let Some(key) = secret_file_key(name) else {
            continue;
        };
        let value = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            setting: name.clone(),
            message: format!("cannot read {path}: {e}"),
        })?;
        builder = builder
            .set_override(
                key.as_str(),
                value.trim_end_matches(['\r', '\n']).to_string(),
            )
            .map_err(|e| ConfigError::Other(e.to_string()))?;
    }
    for (key, value) in overrides {
        builder = builder
            .set_override(*key, *value)
            .map_err(|e| ConfigError::Other(e.to_string()))?;
    }
    let settings: Settings = builder
        .build()
        .and_then(Config::try_deserialize)
        .map_err(|e| describe(&e))?;
    validate(service, &settings)?;
    Ok(settings)
}

/// `CLIENTSTOR_VAULT__MASTER_KEY_FILE` → `vault.master_key`.
fn secret_file_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix("CLIENTSTOR_")?.strip_suffix("_FILE")?;
    if rest == "CONFIG" || rest.is_empty() {
        return None;
    }
    Some(rest.to_lowercase().replace("__", "."))
}

fn describe(error: &config::ConfigError) -> ConfigError {
    let text = error.to_string();
    // config reports "… for key `database.pool_size` …" or "missing field `url`"; name the variable.
    if let Some(start) = text.find("key `") {
        let rest = &text[start + 5..];
        if let Some(end) = rest.find('`') {
            return ConfigError::invalid(&rest[..end], text.clone());
        }
    }
    ConfigError::Other(text)
}

fn require_base64_key(
    key: &str,
    value: Option<&Secret>,
    min_len: usize,
) -> Result<(), ConfigError> {
    let Some(secret) = value else {
        return Err(ConfigError::invalid(key, "is required (base64)"));
    };
    let bytes = secret
        .decode_base64()
        .map_err(|_| ConfigError::invalid(key, "must be base64"))?;
    if bytes.len() < min_len {
        return Err(ConfigError::invalid(
            key,
            format!("must decode to at least {min_len} bytes"),
        ));
    }
    Ok(())
}

fn validate(service: Service, s: &Settings) -> Result<(), ConfigError> {
    require_base64_key(
        "gateway.internal_secret",
        s.gateway.internal_secret.as_ref(),
        32,
    )?;
    match service {
        Service::Gateway => {
            require_base64_key("gateway.key_pepper", s.gateway.key_pepper.as_ref(), 32)?
        }
        Service::Vault => require_base64_key("vault.master_key", s.vault.master_key.as_ref(), 32)?,
        Service::Rmm => require_base64_key("rmm.master_key", s.rmm.master_key.as_ref(), 32)?,
        _ => {}
    }
    let url = s.database_url(service);
    if !(url.expose().starts_with("postgres://") || url.expose().starts_with("postgresql://")) {
        return Err(ConfigError::invalid(
            "database.url",
            "must be a postgres:// URL",
        ));
    }
    if !(s.amqp.url.expose().starts_with("amqp://") || s.amqp.url.expose().starts_with("amqps://"))
    {
        return Err(ConfigError::invalid("amqp.url", "must be an amqp:// URL"));
    }
    if s.database.pool_size == 0 {
        return Err(ConfigError::invalid(
            "database.pool_size",
            "must be at least 1",
        ));
    }
    if !(0.0..=1.0).contains(&s.telemetry.sample_ratio) {
        return Err(ConfigError::invalid(
            "telemetry.sample_ratio",
            "must be between 0 and 1",
        ));
    }
    if s.amqp.exchange.is_empty() {
        return Err(ConfigError::invalid("amqp.exchange", "must not be empty"));
    }
    Ok(())
}

impl Settings {
    /// The service's own database URL when set, else the shared one.
    pub fn database_url(&self, service: Service) -> &Secret {
        let own = match service {
            Service::Gateway => &self.gateway.database,
            Service::Inventory => &self.inventory.database,
            Service::Vault => &self.vault.database,
            Service::Monitor => &self.monitor.database,
            Service::Webhooks => &self.webhooks.database,
            Service::Rmm => &self.rmm.database,
        };
        own.url.as_ref().unwrap_or(&self.database.url)
    }

    /// The listen address of a service's public (or only) port.
    pub fn listen(&self, service: Service) -> &str {
        match service {
            Service::Gateway => &self.gateway.listen,
            Service::Inventory => &self.inventory.listen,
            Service::Vault => &self.vault.listen,
            Service::Monitor => &self.monitor.listen,
            Service::Webhooks => &self.webhooks.listen,
            Service::Rmm => &self.rmm.listen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_defaults_with_nested_keys() {
        let vars = env(&[
            ("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", KEY),
            ("CLIENTSTOR_DATABASE__URL", "postgres://u@db:5432/x"),
            ("CLIENTSTOR_GATEWAY__RATE_LIMIT__PER_MINUTE", "42"),
            (
                "CLIENTSTOR_OUTBOUND__ALLOWLIST",
                "10.0.0.0/8,192.168.1.0/24",
            ),
            (
                "CLIENTSTOR_INVENTORY__DATABASE__URL",
                "postgres://inv@db:5432/x",
            ),
        ]);
        let s = load_from(Service::Inventory, &vars, &[]).unwrap();
        assert_eq!(s.database.url.expose(), "postgres://u@db:5432/x");
        assert_eq!(s.gateway.rate_limit.per_minute, 42);
        assert_eq!(s.outbound.allowlist, vec!["10.0.0.0/8", "192.168.1.0/24"]);
        assert_eq!(
            s.database_url(Service::Inventory).expose(),
            "postgres://inv@db:5432/x"
        );
        assert_eq!(
            s.database_url(Service::Webhooks).expose(),
            "postgres://u@db:5432/x"
        );
        assert_eq!(s.amqp.exchange, "clientstor.events");
    }

    #[test]
    fn missing_secret_names_the_variable() {
        let err = load_from(Service::Inventory, &env(&[]), &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("CLIENTSTOR_GATEWAY__INTERNAL_SECRET"),
            "{err}"
        );
        let vars = env(&[("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", KEY)]);
        let err = load_from(Service::Vault, &vars, &[]).unwrap_err();
        assert!(
            err.to_string().contains("CLIENTSTOR_VAULT__MASTER_KEY"),
            "{err}"
        );
    }

    #[test]
    fn bad_value_names_the_variable() {
        let vars = env(&[
            ("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", KEY),
            ("CLIENTSTOR_DATABASE__POOL_SIZE", "lots"),
        ]);
        let err = load_from(Service::Inventory, &vars, &[]).unwrap_err();
        assert!(
            err.to_string().contains("CLIENTSTOR_DATABASE__POOL_SIZE"),
            "{err}"
        );
        let vars = env(&[("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", "c2hvcnQ=")]);
        let err = load_from(Service::Inventory, &vars, &[]).unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = std::env::temp_dir().join(format!("clientstor-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master");
        std::fs::write(&path, format!("{KEY}\n")).unwrap();
        let vars = env(&[
            ("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", KEY),
            ("CLIENTSTOR_VAULT__MASTER_KEY_FILE", path.to_str().unwrap()),
        ]);
        let s = load_from(Service::Vault, &vars, &[]).unwrap();
        assert_eq!(s.vault.master_key.as_ref().map(Secret::expose), Some(KEY));
        assert!(!format!("{s:?}").contains(KEY), "Debug must redact secrets");
        let vars = env(&[
            ("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", KEY),
            ("CLIENTSTOR_VAULT__MASTER_KEY_FILE", "/nonexistent/secret"),
        ]);
        let err = load_from(Service::Vault, &vars, &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("CLIENTSTOR_VAULT__MASTER_KEY_FILE"),
            "{err}"
        );
    }

    #[test]
    fn config_file_sits_between_defaults_and_environment() {
        let dir =
            std::env::temp_dir().join(format!("clientstor-config-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.toml");
        std::fs::write(&path, "[amqp]\nexchange = \"from-file\"\nprefetch = 5\n").unwrap();
        let vars = env(&[
            ("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", KEY),
            ("CLIENTSTOR_CONFIG_FILE", path.to_str().unwrap()),
            ("CLIENTSTOR_AMQP__PREFETCH", "7"),
        ]);
        let s = load_from(Service::Monitor, &vars, &[]).unwrap();
        assert_eq!(s.amqp.exchange, "from-file");
        assert_eq!(s.amqp.prefetch, 7);
    }
}
