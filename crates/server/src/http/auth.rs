//! Who is calling: `AuthUser` for every private endpoint (a live bearer
//! session), plus the client address and user agent that login, register
//! and the session list need.
//!
//! ```ignore
//! async fn list_materials(user: AuthUser, State(ctx): State<ApiContext>) -> Result<...> {
//!     db::materials::list(&ctx.db, user.user_id).await
//! }
//! ```

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::ApiContext;
use super::error::Error;
use crate::{credentials, db};

/// The signed-in user of this request. Extracting it checks
/// `Authorization: Bearer <token>` against the stored hash, refuses expired
/// sessions and deleted accounts (401 with `WWW-Authenticate`), and slides
/// the session's expiry forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// Our tokens are 43 characters; anything much longer is not one.
const MAX_TOKEN_LEN: usize = 256;

impl FromRequestParts<ApiContext> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(Error::Unauthorized)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(Error::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > MAX_TOKEN_LEN
        {
            return Err(Error::Unauthorized);
        }
        let hash = credentials::token_hash(token);
        let (session_id, user_id) =
            db::sessions::authenticate(&ctx.db, &hash, ctx.settings.session_ttl)
                .await?
                .ok_or(Error::Unauthorized)?;
        Ok(AuthUser {
            user_id,
            session_id,
        })
    }
}

/// The client's address: the TCP peer, or the header a trusted proxy sets
/// (`--client-ip-header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<ApiContext> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        if let Some(name) = &ctx.settings.rate_limits.client_ip_header {
            // A proxy chain lists the client first.
            let forwarded = parts
                .headers
                .get(name.as_str())
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .map(str::trim)
                .filter(|value| !value.is_empty() && value.len() <= 64);
            if let Some(ip) = forwarded {
                return Ok(ClientIp(ip.to_owned()));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(peer))
    }
}

/// The `User-Agent` header, cut to what the `sessions` table keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(pub Option<String>);

const MAX_USER_AGENT_CHARS: usize = 512;

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(MAX_USER_AGENT_CHARS).collect::<String>())
            .filter(|value| !value.is_empty());
        Ok(UserAgent(agent))
    }
}
