//! `/api/v1/dictionary/{language}/{word}`: a word's pronunciation and
//! meanings in the learner's language, from the shared dictionary.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::Query;
use crate::db;
use crate::db::dictionary::Sense;
use crate::dictionary;
use crate::domain::{LanguageTag, Word};

pub fn router() -> Router<ApiContext> {
    Router::new().route("/dictionary/{language}/{word}", get(lookup))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// Language of the meanings (BCP 47; its primary subtag is used).
    /// Default: the account's `native_language`.
    pub to: Option<String>,
}

/// A word as the dictionary knows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lookup {
    /// The lookup key: lower case, NFKC (`House` → `house`).
    pub word: String,
    /// Primary language subtag (ISO 639-1 where there is one).
    pub language: String,
    /// IPA: the dictionary's, else espeak-ng's (stored once for a word the
    /// dictionary or a learner's vocabulary has; made on each lookup of
    /// any other word); `null` when neither has one.
    pub ipa: Option<String>,
    pub parts_of_speech: Vec<String>,
    /// Empty when the dictionary has no meanings in that language.
    pub senses: Vec<Sense>,
}

pub(super) fn parse_language(field: &str, input: &str) -> Result<LanguageTag> {
    LanguageTag::parse(input).map_err(|reason| Error::validation(field, reason))
}

/// Look a word up. A word the dictionary does not have answers 200 with no
/// senses (it can still be saved).
#[utoipa::path(get, path = "/api/v1/dictionary/{language}/{word}", tag = "dictionary",
    params(("language" = String, Path, description = "BCP 47 tag of the word's language"),
           ("word" = String, Path, description = "As written; 1 to 200 characters"), LookupQuery),
    responses((status = 200, body = Lookup), (status = 422, description = "validation_failed: language, word or to")),
    security(("bearer" = [])))]
pub async fn lookup(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    path: std::result::Result<Path<(String, String)>, PathRejection>,
    Query(query): Query<LookupQuery>,
) -> Result<axum::Json<Lookup>> {
    let Path((language, word)) = path.map_err(|_| Error::NotFound)?;
    let language = parse_language("language", &language)?;
    let word = Word::parse(&word, &language).map_err(|reason| Error::validation("word", reason))?;
    let to = match query.to {
        Some(to) => parse_language("to", &to)?,
        None => {
            let account = db::users::find(&ctx.db, user.user_id)
                .await?
                .ok_or(Error::Unauthorized)?;
            parse_language("to", &account.native_language)?
        }
    };
    let known = dictionary::known_word(&mut *ctx.db.acquire().await?, &word).await?;
    let lookup = match known {
        Some(core) => Lookup {
            senses: db::dictionary::senses(&ctx.db, core.id, to.primary()).await?,
            word: core.word,
            language: core.language,
            ipa: core.ipa,
            parts_of_speech: core.parts_of_speech,
        },
        None => Lookup {
            word: word.as_str().to_owned(),
            language: word.language().to_owned(),
            ipa: dictionary::pronounce(&word).await,
            parts_of_speech: Vec::new(),
            senses: Vec::new(),
        },
    };
    Ok(axum::Json(lookup))
}
