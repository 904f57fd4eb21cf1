//! `api-gateway admin …`: bootstrap organizations, users, memberships, platform administrators
//! and API keys from the command line. `admin key create` prints the key alone on its last line.

use chrono::{Duration, Utc};
use clap::Subcommand;
use clientstor_db::Pool;
use clientstor_http::Role;

use crate::db::identity::{self, NewKey};
use crate::error::GatewayError;
use crate::{Gateway, keys};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// A user's role in an organization.
    #[command(subcommand)]
    Membership(MembershipCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Custom roles.
    #[command(subcommand)]
    Role(RoleCommand),
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated permission names (see /api/v1/permissions/).
        #[arg(long)]
        permissions: String,
        /// Organization id or slug; global when omitted.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: Option<String>,
        /// Parent organization id or slug.
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Reaches every organization as owner.
        #[arg(long)]
        platform_admin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MembershipCommand {
    Create {
        #[arg(long)]
        user: String,
        /// Organization id or slug.
        #[arg(long)]
        org: String,
        /// A built-in role, or `custom` with --custom-role.
        #[arg(long, default_value = "owner")]
        role: String,
        /// Id of a custom role (global or of this organization).
        #[arg(long)]
        custom_role: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    Create {
        #[arg(long)]
        user: String,
        /// Home organization, id or slug.
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Role ceiling: owner, admin, editor, readonly.
        #[arg(long, default_value = "owner")]
        role: String,
        /// single, descendants or all.
        #[arg(long, default_value = "single")]
        scope: String,
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// A user's keys (never the keys themselves).
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a key by id; every gateway refuses it within a second.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

/// Creates a key; returns its id and the plaintext, which is never stored.
pub async fn create_key(
    gateway: &Gateway,
    user_email: &str,
    org: &str,
    name: &str,
    role: &str,
    scope: &str,
    expires_in_days: Option<i64>,
) -> Result<(i64, String), GatewayError> {
    if Role::parse(role).is_none() {
        return Err(GatewayError::Invalid(format!(
            "unknown role {role}: use owner, admin, editor or readonly"
        )));
    }
    if !matches!(scope, "single" | "descendants" | "all") {
        return Err(GatewayError::Invalid(format!(
            "unknown scope {scope}: use single, descendants or all"
        )));
    }
    let pool = &gateway.context.pool;
    let user = identity::find_user(pool, user_email).await?;
    let org = identity::find_org(pool, org).await?;
    let (prefix, plaintext) =
        keys::generate().map_err(|_| GatewayError::Invalid("random generator failed".into()))?;
    let pepper = gateway
        .current_pepper()
        .ok_or_else(|| GatewayError::Invalid("no key pepper".into()))?;
    let expires_at = match expires_in_days {
        Some(days) => Some(
            Duration::try_days(days)
                .and_then(|d| Utc::now().checked_add_signed(d))
                .filter(|at| *at > Utc::now())
                .ok_or_else(|| GatewayError::Invalid("--expires-in-days is out of range".into()))?,
        ),
        None => None,
    };
    let id = identity::insert_key(
        pool,
        NewKey {
            prefix: &prefix,
            key_hash: keys::hash(pepper, &plaintext),
            pepper_version: gateway.pepper_version,
            name,
            user_id: user.id,
            organization_id: org.id,
            role,
            scope,
            expires_at,
        },
    )
    .await?;
    Ok((id, plaintext))
}

/// Admin commands are audited like API calls, without a user. Awaited: the process exits next.
async fn audit(
    pool: &Pool,
    organization: Option<i64>,
    action: &'static str,
    object: (&'static str, i64),
    detail: serde_json::Value,
) {
    let recorded = crate::db::audit::record(
        pool,
        crate::db::audit::Entry {
            organization_id: organization,
            action,
            object_type: object.0,
            object_id: object.1.to_string(),
            ip: "cli".into(),
            detail,
            ..Default::default()
        },
    )
    .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "cannot write the audit log");
    }
}

async fn org_id(pool: &Pool, id_or_slug: &str) -> Result<i64, GatewayError> {
    Ok(identity::find_org(pool, id_or_slug).await?.id)
}

/// Runs one admin command; the returned lines are printed by the caller.
pub async fn run(gateway: &Gateway, command: AdminCommand) -> Result<Vec<String>, GatewayError> {
    let pool = &gateway.context.pool;
    match command {
        AdminCommand::Org(OrgCommand::Create { name, slug, parent }) => {
            let parent = match parent {
                Some(p) => Some(org_id(pool, &p).await?),
                None => None,
            };
            let org = identity::create_org(pool, &name, slug.as_deref(), parent).await?;
            Ok(vec![format!(
                "organization {} created: {} ({})",
                org.id, org.name, org.slug
            )])
        }
        AdminCommand::User(UserCommand::Create {
            email,
            name,
            platform_admin,
        }) => {
            let user = identity::create_user(pool, &email, &name, platform_admin).await?;
            Ok(vec![format!("user {} created: {}", user.id, user.email)])
        }
        AdminCommand::Membership(MembershipCommand::Create {
            user,
            org,
            role,
            custom_role,
        }) => {
            let role = if custom_role.is_some() {
                "custom".to_string()
            } else {
                role
            };
            if custom_role.is_none() && Role::parse(&role).is_none() {
                return Err(GatewayError::Invalid(format!("unknown role {role}")));
            }
            let user = identity::find_user(pool, &user).await?;
            let org = org_id(pool, &org).await?;
            let membership =
                crate::db::people::put_membership(pool, user.id, org, &role, custom_role).await?;
            audit(
                pool,
                Some(org),
                "membership.created",
                ("membership", membership.id),
                serde_json::json!({"user": user.id, "role": role}),
            )
            .await;
            Ok(vec![format!(
                "{} is {role} of organization {org}",
                user.email
            )])
        }
        AdminCommand::Key(KeyCommand::Create {
            user,
            org,
            name,
            role,
            scope,
            expires_in_days,
        }) => {
            let (id, plaintext) =
                create_key(gateway, &user, &org, &name, &role, &scope, expires_in_days).await?;
            let home = org_id(pool, &org).await?;
            let prefix = crate::keys::parse(&plaintext)
                .unwrap_or_default()
                .to_string();
            audit(
                pool,
                Some(home),
                "api_key.created",
                ("api_key", id),
                serde_json::json!({"prefix": prefix, "role": role, "scope": scope}),
            )
            .await;
            Ok(vec![
                format!("API key {id} created; it is shown only now:"),
                plaintext,
            ])
        }
        AdminCommand::Key(KeyCommand::List { user }) => {
            let user = identity::find_user(pool, &user).await?;
            let keys = crate::db::api_keys::of_user(pool, user.id).await?;
            Ok(keys
                .iter()
                .map(|k| {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    format!(
                        "{}\t{}\t{}\torg {}\t{}\t{}\t{state}",
                        k.id, k.prefix, k.name, k.organization_id, k.role, k.scope
                    )
                })
                .collect())
        }
        AdminCommand::Role(RoleCommand::Create {
            name,
            permissions,
            org,
        }) => {
            let permissions: Vec<String> = permissions
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            let unknown = crate::roles::unknown_permissions(&permissions);
            if permissions.is_empty() || !unknown.is_empty() {
                return Err(GatewayError::Invalid(format!(
                    "unknown or missing permissions: {}",
                    unknown.join(", ")
                )));
            }
            let org = match org {
                Some(o) => Some(org_id(pool, &o).await?),
                None => None,
            };
            let role = crate::db::people::create_role(pool, org, &name, "", &permissions).await?;
            audit(
                pool,
                org,
                "role.created",
                ("role", role.id),
                serde_json::json!({"permissions": role.permissions}),
            )
            .await;
            Ok(vec![format!("role {} created: {}", role.id, role.name)])
        }
        AdminCommand::Key(KeyCommand::Revoke { id }) => {
            let prefix = crate::db::api_keys::revoke(pool, id).await?;
            gateway.keys.forget(&prefix);
            audit(
                pool,
                None,
                "api_key.revoked",
                ("api_key", id),
                serde_json::json!({"prefix": prefix}),
            )
            .await;
            Ok(vec![format!("API key {id} revoked")])
        }
    }
}
