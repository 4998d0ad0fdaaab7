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

impl Role {
    /// Whether this role may see a sensor kind: restricted kinds (gas pipelines) need a planner.
    pub fn sees(self, kind: citytwin_protocol::sensors::SensorKind) -> bool {
        self >= Role::Planner || !kind.restricted()
    }
}

/// Who is calling: from `Authorization: Bearer …` (the scheme in any case), or `?access_token=…`
/// where headers cannot be set (WebSocket and `<img>` in browsers). No token means public; an
/// unknown token, another scheme or an unreadable header is a 401, and is audited.
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

/// The token a request presents: `Ok(None)` for none, `Err` for a header that is not a bearer token.
fn token_of(parts: &Parts) -> Result<Option<String>, &'static str> {
    if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let v = h.to_str().map_err(|_| "the Authorization header is not readable text")?;
        let (scheme, token) = v.trim().split_once(' ').ok_or("Authorization needs a scheme and a token")?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err("only Bearer tokens are accepted");
        }
        return Ok(Some(token.trim().to_owned()));
    }
    let query = parts.uri.query().unwrap_or("");
    Ok(query.split('&').find_map(|kv| kv.strip_prefix("access_token=").map(str::to_owned)))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let resolved = token_of(parts)
            .map_err(|why| ApiError::new(StatusCode::UNAUTHORIZED, why))
            .and_then(|token| Caller::resolve(&state.tokens, token.as_deref()));
        if let Err(e) = &resolved {
            // Who failed is unknown: the audit names the peer, never the token presented.
            let peer = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or("unknown peer".to_owned(), |c| c.0.ip().to_string());
            let caller = Caller { role: Role::Public, who: format!("unauthenticated ({peer})") };
            state.audit(&caller, "authenticate", &format!("{} ({})", parts.uri.path(), e.message), false).await;
        }
        resolved
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

    #[test]
    fn bearer_is_case_insensitive_and_other_schemes_are_refused() {
        let parts = |auth: Option<&[u8]>, uri: &str| {
            let mut b = axum::http::Request::builder().uri(uri);
            if let Some(a) = auth {
                b = b.header("authorization", axum::http::HeaderValue::from_bytes(a).unwrap());
            }
            b.body(()).unwrap().into_parts().0
        };
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let p = parts(Some(format!("{scheme} t-1").as_bytes()), "/");
            assert_eq!(token_of(&p), Ok(Some("t-1".to_owned())), "{scheme}");
        }
        assert_eq!(token_of(&parts(None, "/x?a=1&access_token=t-2")), Ok(Some("t-2".to_owned())));
        assert_eq!(token_of(&parts(None, "/x")), Ok(None));
        for bad in [&b"Basic dXNlcjpwYXNz"[..], b"Bearer", b"t-1", b"Bearer \xff\xfe"] {
            assert!(token_of(&parts(Some(bad), "/")).is_err(), "{bad:?}");
        }
    }
}
