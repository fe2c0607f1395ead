//! Roles inside a tenant.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What a member of a tenant may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including the team and money.
    Owner,
    /// Everything but the team.
    Admin,
    /// Reads reports; phone numbers are masked.
    Viewer,
}

impl Role {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may change call settings, issue API tokens and place test calls.
    pub fn operates(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether this role may invite, change and remove members.
    pub fn manages_team(self) -> bool {
        self == Role::Owner
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            _ => Err(()),
        }
    }
}
