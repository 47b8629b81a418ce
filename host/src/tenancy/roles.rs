//! Roles, and the one place that decides what each may do ([`authorize`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a key may do. Server-wide roles have no tenant; tenant roles have exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including creating other owners and admins.
    Owner,
    /// Manages tenants: their keys, credentials, policies, quotas and usage.
    Admin,
    /// Manages plugins.
    Operator,
    /// Reads and verifies the audit log.
    Auditor,
    /// Manages one tenant's keys and credentials and reads its usage and audit.
    TenantAdmin,
    /// Calls the API for one tenant.
    User,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [Role::Owner, Role::Admin, Role::Operator, Role::Auditor, Role::TenantAdmin, Role::User];

    /// The role's name, as written in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::TenantAdmin => "tenant-admin",
            Role::User => "user",
        }
    }

    /// Whether keys of this role belong to a tenant.
    pub fn is_tenant_role(self) -> bool {
        matches!(self, Role::TenantAdmin | Role::User)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == name).ok_or_else(|| {
            let names: Vec<_> = Role::ALL.iter().map(|role| role.as_str()).collect();
            format!("unknown role `{name}` (one of {})", names.join(", "))
        })
    }
}

/// Who is asking: an authenticated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's public prefix.
    pub key_prefix: String,
    /// The key's role.
    pub role: Role,
    /// The key's tenant (tenant roles only).
    pub tenant: Option<String>,
}

/// Something a principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Create, list, change or disable tenants.
    ManageTenants,
    /// Read one tenant's record.
    ReadTenant(&'a str),
    /// Create, rotate or revoke a key of `role` for `tenant` (none: a server-wide key).
    ManageKey {
        /// The key's tenant.
        tenant: Option<&'a str>,
        /// The key's role.
        role: Role,
    },
    /// List keys of a tenant (none: every key).
    ListKeys(Option<&'a str>),
    /// Set or delete a tenant's provider credentials, or list them (never their values).
    ManageCredentials(&'a str),
    /// Change a tenant's plugin policy or quotas.
    ManagePolicy(&'a str),
    /// Read a tenant's usage.
    ReadUsage(&'a str),
    /// Read the audit log of a tenant (none: all of it) or verify the chain.
    ReadAudit(Option<&'a str>),
    /// Upload, activate or roll back plugins.
    ManagePlugins,
    /// Call the API on a tenant's behalf.
    CallApi,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role `{role}` may not {what}")]
pub struct Denied {
    /// The principal's role.
    pub role: Role,
    /// What it tried, in words.
    pub what: String,
}

/// Decides whether `principal` may do `action`: least privilege, in one place.
///
/// # Errors
///
/// [`Denied`], naming the role and the action.
pub fn authorize(principal: &Principal, action: Action<'_>) -> Result<(), Denied> {
    let own = |tenant: &str| principal.tenant.as_deref() == Some(tenant);
    let allowed = match (principal.role, action) {
        (Role::Owner, _) => true,
        (Role::Admin, Action::ManageKey { role, .. }) => role.is_tenant_role(),
        (Role::Admin, Action::ReadAudit(_) | Action::ManagePlugins | Action::CallApi) => false,
        (Role::Admin, _) => true,
        (Role::Operator, action) => action == Action::ManagePlugins,
        (Role::Auditor, action) => matches!(action, Action::ReadAudit(_)),
        (Role::TenantAdmin, Action::ManageKey { tenant: Some(tenant), role }) => own(tenant) && role.is_tenant_role(),
        (
            Role::TenantAdmin,
            Action::ReadTenant(tenant)
            | Action::ListKeys(Some(tenant))
            | Action::ManageCredentials(tenant)
            | Action::ReadUsage(tenant)
            | Action::ReadAudit(Some(tenant)),
        ) => own(tenant),
        (Role::TenantAdmin, action) => action == Action::CallApi,
        (Role::User, action) => action == Action::CallApi,
    };
    if allowed { Ok(()) } else { Err(Denied { role: principal.role, what: describe(action) }) }
}

fn describe(action: Action<'_>) -> String {
    match action {
        Action::ManageTenants => "manage tenants".into(),
        Action::ReadTenant(tenant) => format!("read tenant `{tenant}`"),
        Action::ManageKey { tenant: Some(tenant), role } => format!("manage `{role}` keys of tenant `{tenant}`"),
        Action::ManageKey { tenant: None, role } => format!("manage server-wide `{role}` keys"),
        Action::ListKeys(Some(tenant)) => format!("list the keys of tenant `{tenant}`"),
        Action::ListKeys(None) => "list every key".into(),
        Action::ManageCredentials(tenant) => format!("manage the credentials of tenant `{tenant}`"),
        Action::ManagePolicy(tenant) => format!("change the policy of tenant `{tenant}`"),
        Action::ReadUsage(tenant) => format!("read the usage of tenant `{tenant}`"),
        Action::ReadAudit(Some(tenant)) => format!("read the audit log of tenant `{tenant}`"),
        Action::ReadAudit(None) => "read the whole audit log".into(),
        Action::ManagePlugins => "manage plugins".into(),
        Action::CallApi => "call the API".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, tenant: Option<&str>) -> Principal {
        Principal { key_prefix: "p".into(), role, tenant: tenant.map(Into::into) }
    }

    /// Every action, against tenant `a` where it names one.
    fn actions() -> Vec<Action<'static>> {
        let mut actions = vec![
            Action::ManageTenants,
            Action::ReadTenant("a"),
            Action::ListKeys(Some("a")),
            Action::ListKeys(None),
            Action::ManageCredentials("a"),
            Action::ManagePolicy("a"),
            Action::ReadUsage("a"),
            Action::ReadAudit(Some("a")),
            Action::ReadAudit(None),
            Action::ManagePlugins,
            Action::CallApi,
        ];
        for role in Role::ALL {
            let tenant = role.is_tenant_role().then_some("a");
            actions.push(Action::ManageKey { tenant, role });
        }
        actions
    }

    fn allowed(principal: &Principal) -> Vec<Action<'static>> {
        actions().into_iter().filter(|action| authorize(principal, *action).is_ok()).collect()
    }

    #[test]
    fn each_role_has_exactly_its_rights() {
        use Action::*;
        assert_eq!(allowed(&principal(Role::Owner, None)), actions());
        assert_eq!(allowed(&principal(Role::Operator, None)), vec![ManagePlugins]);
        assert_eq!(allowed(&principal(Role::Auditor, None)), vec![ReadAudit(Some("a")), ReadAudit(None)]);
        assert_eq!(allowed(&principal(Role::User, Some("a"))), vec![CallApi]);
        let admin = allowed(&principal(Role::Admin, None));
        assert!(admin.contains(&ManageTenants) && admin.contains(&ManageCredentials("a")));
        assert!(admin.contains(&ManageKey { tenant: Some("a"), role: Role::User }));
        for refused in [
            ReadAudit(None),
            ManagePlugins,
            CallApi,
            ManageKey { tenant: None, role: Role::Owner },
            ManageKey { tenant: None, role: Role::Admin },
        ] {
            assert!(!admin.contains(&refused), "admin may not {refused:?}");
        }
        assert_eq!(
            allowed(&principal(Role::TenantAdmin, Some("a"))),
            vec![
                ReadTenant("a"),
                ListKeys(Some("a")),
                ManageCredentials("a"),
                ReadUsage("a"),
                ReadAudit(Some("a")),
                CallApi,
                ManageKey { tenant: Some("a"), role: Role::TenantAdmin },
                ManageKey { tenant: Some("a"), role: Role::User },
            ]
        );
    }

    #[test]
    fn a_tenant_admin_has_no_rights_in_another_tenant() {
        assert!(allowed(&principal(Role::TenantAdmin, Some("b"))) == vec![Action::CallApi]);
        let error = authorize(&principal(Role::TenantAdmin, Some("b")), Action::ReadUsage("a")).unwrap_err();
        assert_eq!(error.to_string(), "role `tenant-admin` may not read the usage of tenant `a`");
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().unwrap_err().contains("tenant-admin"));
    }
}
