//! Access: bearer tokens map to roles (public, planner, operator); restricted resources
//! (gas pipelines, cameras) are checked here and every access to them is audited.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;

/// Roles in increasing order of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Citizens: the city, models and public sensor layers.
    Public,
    /// Planners: also restricted layers (gas pipelines) and the camera catalog.
    Planner,
    /// Command-centre operators: also live camera feeds.
    Operator,
}

/// Who is calling: from `Authorization: Bearer …`, or `?access_token=…` where headers cannot be
/// set (WebSocket and `<img>` in browsers). No token means public; an unknown token is a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    pub who: String,
}

impl Caller {
    pub const PUBLIC: &'static str = "anonymous";

    pub fn resolve(tokens: &HashMap<String, (Role, String)>, token: Option<&str>) -> Result<Caller, ApiError> {
        match token {
            None => Ok(Caller { role: Role::Public, who: Self::PUBLIC.into() }),
            Some(t) => tokens
                .get(t)
                .map(|(role, who)| Caller { role: *role, who: who.clone() })
                .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown access token")),
        }
    }
}

fn token_of(parts: &Parts) -> Option<String> {
    if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let v = h.to_str().ok()?;
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned()).or(Some(String::new()));
    }
    parts.uri.query()?.split('&').find_map(|kv| kv.strip_prefix("access_token=").map(str::to_owned))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Caller::resolve(&state.tokens, token_of(parts).as_deref())
    }
}

/// Checks `caller` against `needed` for a restricted `resource`, auditing the attempt.
pub async fn require(
    state: &AppState,
    caller: &Caller,
    needed: Role,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    let allowed = caller.role >= needed;
    state.audit(caller, action, resource, allowed).await;
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("{resource} needs the {needed:?} role").to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resolve_to_roles() {
        let tokens: HashMap<String, (Role, String)> =
            [("t-op".to_owned(), (Role::Operator, "ops".to_owned()))].into_iter().collect();
        assert_eq!(Caller::resolve(&tokens, None).unwrap().role, Role::Public);
        assert_eq!(Caller::resolve(&tokens, Some("t-op")).unwrap(), Caller { role: Role::Operator, who: "ops".into() });
        assert_eq!(Caller::resolve(&tokens, Some("nope")).unwrap_err().status, StatusCode::UNAUTHORIZED);
        assert!(Role::Operator > Role::Planner && Role::Planner > Role::Public);
    }
}
