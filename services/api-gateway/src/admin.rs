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
        #[arg(long, default_value = "owner")]
        role: String,
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
            expires_at: expires_in_days.map(|d| Utc::now() + Duration::days(d)),
        },
    )
    .await?;
    Ok((id, plaintext))
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
        AdminCommand::Membership(MembershipCommand::Create { user, org, role }) => {
            if Role::parse(&role).is_none() {
                return Err(GatewayError::Invalid(format!("unknown role {role}")));
            }
            let user = identity::find_user(pool, &user).await?;
            let org = org_id(pool, &org).await?;
            identity::add_membership(pool, user.id, org, &role).await?;
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
        AdminCommand::Key(KeyCommand::Revoke { id }) => {
            let prefix = crate::db::api_keys::revoke(pool, id).await?;
            gateway.keys.forget(&prefix);
            Ok(vec![format!("API key {id} revoked")])
        }
    }
}
