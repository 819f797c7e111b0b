//! Secrets we hand out or keep: argon2id password digests and bearer
//! session tokens (of which only a SHA-256 is stored).

use std::sync::OnceLock;

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::domain::Password;

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for
/// `password`. CPU-heavy: runs on a blocking thread.
pub async fn hash_password(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose()))
        .await
        .context("password hashing panicked")?
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| anyhow::anyhow!("no randomness for a salt: {error}"))?;
    let hash = hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches `digest`. With no digest (unknown email) the
/// password is checked against a dummy digest with the same parameters, so
/// the answer takes the same time either way and existence never leaks.
pub async fn verify_password(password: String, digest: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let (digest, real) = match digest {
            Some(digest) => (digest, true),
            None => (dummy_digest()?.to_owned(), false),
        };
        let matches = hasher()?
            .verify_password(password.as_bytes(), digest.as_str())
            .is_ok();
        Ok(matches && real)
    })
    .await
    .context("password verification panicked")?
}

fn dummy_digest() -> anyhow::Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(digest) = DUMMY.get() {
        return Ok(digest);
    }
    let digest = hash_blocking("echoloop dummy password for unknown accounts")?;
    Ok(DUMMY.get_or_init(|| digest))
}

/// A new bearer token: 256 random bits, base64url without padding (43 chars).
pub fn new_session_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| anyhow::anyhow!("no randomness for a token: {error}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the `sessions` table stores instead of the token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let password = Password::parse("correct horse battery").unwrap();
        let digest = hash_password(password).await.unwrap();
        assert!(
            digest.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{digest}"
        );
        assert!(
            verify_password("correct horse battery".into(), Some(digest.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(digest))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn no_digest_never_verifies() {
        let dummy = "echoloop dummy password for unknown accounts".to_string();
        assert!(!verify_password(dummy, None).await.unwrap());
    }

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = new_session_token().unwrap();
        let b = new_session_token().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 32);
    }
}
