//! What a membership grants: a built-in role or a custom one, and the effective permissions
//! once a key's ceiling (always a built-in role) is applied.

use std::collections::BTreeSet;

use clientstor_http::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRef {
    Builtin(Role),
    Custom {
        id: i64,
        permissions: BTreeSet<String>,
    },
}

/// The effective role under `ceiling`: its name in the principal, and its permissions.
/// Built-in roles nest, so the weaker one wins; a custom role is intersected with the ceiling.
pub fn effective(grant: &RoleRef, ceiling: Role) -> (String, BTreeSet<String>) {
    match grant {
        RoleRef::Builtin(role) => {
            let role = (*role).min(ceiling);
            (role.name().to_string(), role.permissions())
        }
        RoleRef::Custom { id, permissions } => {
            let allowed = ceiling.permissions();
            let kept: BTreeSet<String> = permissions.intersection(&allowed).cloned().collect();
            let name = if kept.len() == permissions.len() {
                format!("custom:{id}")
            } else {
                format!("custom:{id}:{}", ceiling.name())
            };
            (name, kept)
        }
    }
}

/// Whether every permission name is known.
pub fn unknown_permissions(names: &[String]) -> Vec<String> {
    let known: BTreeSet<&str> = clientstor_http::all_permissions().collect();
    names
        .iter()
        .filter(|n| !known.contains(n.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_cap_builtin_and_custom_roles() {
        assert_eq!(
            effective(&RoleRef::Builtin(Role::Owner), Role::Editor).0,
            "editor"
        );
        assert_eq!(
            effective(&RoleRef::Builtin(Role::ReadOnly), Role::Owner).0,
            "readonly"
        );
        let custom = RoleRef::Custom {
            id: 4,
            permissions: ["assets_view", "assets_delete"].map(String::from).into(),
        };
        let (name, perms) = effective(&custom, Role::Owner);
        assert_eq!(name, "custom:4");
        assert_eq!(perms.len(), 2);
        let (name, perms) = effective(&custom, Role::Editor);
        assert_eq!(name, "custom:4:editor");
        assert_eq!(perms, ["assets_view".to_string()].into());
        assert_eq!(
            unknown_permissions(&["assets_view".into(), "launch_missiles".into()]),
            vec!["launch_missiles"]
        );
    }
}
