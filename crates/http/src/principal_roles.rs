//! Permission names and the built-in roles (SYSTEM §5). One list, served by the gateway at
//! `/api/v1/permissions/` and checked by every service.

use std::collections::BTreeSet;

pub const VIEW: &[&str] = &[
    "assets_view",
    "vehicles_view",
    "vault_view",
    "monitoring_view",
    "webhooks_view",
    "integrations_view",
    "vulnerabilities_view",
    "org_view_members",
];
pub const EDIT: &[&str] = &[
    "assets_create",
    "assets_edit",
    "vehicles_create",
    "vehicles_edit",
    "vault_create",
    "vault_edit",
    "monitoring_create",
    "monitoring_edit",
    "monitoring_trigger",
    "vault_view_password",
];
pub const DELETE: &[&str] = &[
    "assets_delete",
    "vehicles_delete",
    "vault_delete",
    "monitoring_delete",
];
pub const MANAGE: &[&str] = &[
    "webhooks_manage",
    "integrations_configure",
    "integrations_sync",
    "vulnerabilities_manage",
    "audit_view",
    "api_keys_manage",
    "org_invite",
];
pub const OWN: &[&str] = &["org_manage_members", "org_manage_settings"];

/// Every permission name.
pub fn all_permissions() -> impl Iterator<Item = &'static str> {
    VIEW.iter()
        .chain(EDIT)
        .chain(DELETE)
        .chain(MANAGE)
        .chain(OWN)
        .copied()
}

/// The built-in roles, from most to least powerful. Each one's permissions include the next's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    ReadOnly,
    Editor,
    Admin,
    Owner,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::ReadOnly => "readonly",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "readonly" => Some(Role::ReadOnly),
            _ => None,
        }
    }

    pub fn permissions(self) -> BTreeSet<String> {
        let groups: &[&[&str]] = match self {
            Role::Owner => &[VIEW, EDIT, DELETE, MANAGE, OWN],
            Role::Admin => &[VIEW, EDIT, DELETE, MANAGE],
            Role::Editor => &[VIEW, EDIT],
            Role::ReadOnly => &[VIEW],
        };
        groups
            .iter()
            .flat_map(|g| g.iter())
            .map(|p| p.to_string())
            .collect()
    }
}
