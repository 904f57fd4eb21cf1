use std::fmt;

/// The six binaries. Each names its settings section and database schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Gateway,
    Inventory,
    Vault,
    Monitor,
    Webhooks,
    Rmm,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Gateway,
        Service::Inventory,
        Service::Vault,
        Service::Monitor,
        Service::Webhooks,
        Service::Rmm,
    ];

    /// Settings section, also the Postgres schema name.
    pub fn section(self) -> &'static str {
        match self {
            Service::Gateway => "gateway",
            Service::Inventory => "inventory",
            Service::Vault => "vault",
            Service::Monitor => "monitor",
            Service::Webhooks => "webhooks",
            Service::Rmm => "rmm",
        }
    }

    /// The binary's name, used in logs and telemetry.
    pub fn binary(self) -> &'static str {
        match self {
            Service::Gateway => "api-gateway",
            Service::Inventory => "inventory",
            Service::Vault => "vault",
            Service::Monitor => "monitor-worker",
            Service::Webhooks => "webhook-dispatcher",
            Service::Rmm => "rmm-sync",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.binary())
    }
}
