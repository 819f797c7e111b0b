//! Account rules shared by the HTTP API and the operator CLI.

use sqlx::PgPool;
use uuid::Uuid;

use crate::credentials;
use crate::db;
use crate::domain::{Email, LanguageTag, Password};
use crate::http::error::{Error, ResultExt};

pub struct NewAccount {
    pub email: Email,
    pub password: Password,
    pub native_language: LanguageTag,
    pub learning_language: Option<LanguageTag>,
}

pub fn email_taken() -> Error {
    Error::Conflict {
        code: "email_taken",
        detail: "an account with this email already exists".into(),
    }
}

/// Creates the user with a free subscription, in one transaction, and
/// hands the open transaction back so the caller can add a session.
pub async fn create(
    pool: &PgPool,
    account: NewAccount,
) -> Result<(db::users::User, sqlx::Transaction<'static, sqlx::Postgres>), Error> {
    let digest = credentials::hash_password(account.password).await?;
    let mut tx = pool.begin().await?;
    let user = db::users::insert(
        &mut tx,
        account.email.as_str(),
        &digest,
        account.native_language.as_str(),
        account.learning_language.as_ref().map(LanguageTag::as_str),
    )
    .await
    .on_constraint(db::users::EMAIL_KEY, |_| email_taken())?;
    db::subscriptions::insert_free(&mut tx, user.id).await?;
    Ok((user, tx))
}

/// The user id if `password` is theirs. Unknown email and wrong password
/// cost the same time and give the same answer.
pub async fn check_credentials(
    pool: &PgPool,
    email: Option<&Email>,
    password: &str,
) -> Result<Uuid, Error> {
    let found = match email {
        Some(email) => db::users::credentials_by_email(pool, email.as_str()).await?,
        None => None,
    };
    let (user_id, digest) = match found {
        Some((id, digest)) => (Some(id), Some(digest)),
        None => (None, None),
    };
    let matches = credentials::verify_password(password.to_owned(), digest).await?;
    match user_id {
        Some(user_id) if matches => Ok(user_id),
        _ => Err(Error::InvalidCredentials),
    }
}

/// Checks the signed-in user's current password (email change, password
/// change, account deletion).
pub async fn check_current_password(
    pool: &PgPool,
    user_id: Uuid,
    password: &str,
) -> Result<(), Error> {
    let digest = db::users::password_digest(pool, user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    if credentials::verify_password(password.to_owned(), Some(digest)).await? {
        Ok(())
    } else {
        Err(Error::validation("current_password", "is incorrect"))
    }
}
