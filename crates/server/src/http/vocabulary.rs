//! `/api/v1/vocabulary`: the learner's saved words (client-chosen ids,
//! create-or-update), where each was met, and their review answers, from
//! which the core's FSRS schedule is derived again on every write.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::dictionary::parse_language;
use super::error::{Error, Result};
use super::extract::{Json, PathId, Query};
use super::pagination::{self, page_limit};
use crate::db;
use crate::db::dictionary::WordCore;
use crate::db::vocabulary::{After, Saved, Stamp, StampClock, VocabularyItem};
use crate::dictionary::{self, WordCores};
use crate::domain::vocabulary::{Context, MAX_REVIEWS_PER_REQUEST, parse_review, parse_surface};
use crate::domain::{LanguageTag, Word};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/vocabulary", get(list_vocabulary))
        .route(
            "/vocabulary/{id}",
            get(get_item).put(save_item).delete(delete_item),
        )
        .route("/vocabulary/{id}/reviews", post(add_reviews))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveWord {
    /// As written; stored as the dictionary's lookup key (`House` → `house`).
    pub word: String,
    /// BCP 47 tag of the word's language (stored as its primary subtag).
    pub language: String,
    /// Where the learner met the word.
    pub context: Option<ContextBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextBody {
    /// 1 to 2,000 characters. Required (a missing one is a 422 naming
    /// `context.sentence`, or `context.surface` when a surface was sent).
    #[schema(required = true)]
    pub sentence: Option<String>,
    /// The form the word was tapped in ("Running" for `running`), 1 to 200
    /// characters: one of the core's word tokens of `sentence`, exactly as
    /// it stands there, whose lookup key is the item's word.
    pub surface: Option<String>,
    /// One of my materials.
    pub material_id: Option<Uuid>,
    /// One of my segments (of `material_id`, which it implies when absent).
    pub segment_id: Option<Uuid>,
    /// Milliseconds into the material.
    pub time_ms: Option<i64>,
}

/// Save a word under a client-chosen id, or update where it was met.
/// 201 when created (or saved again after a delete), 200 when it existed.
#[utoipa::path(put, path = "/api/v1/vocabulary/{id}", tag = "vocabulary", request_body = SaveWord,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = VocabularyItem), (status = 200, body = VocabularyItem, description = "existed"),
              (status = 409, description = "word_already_saved: another id saves this word (`existing_id`)"),
              (status = 422, description = "validation_failed naming the field (`word`, `language`, `context.material_id`, …)")),
    security(("bearer" = [])))]
pub async fn save_item(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    Json(body): Json<SaveWord>,
) -> Result<impl IntoResponse> {
    let (_, word) = parse_word(&body)?;
    let wanted = dictionary::look_up(&ctx.db, std::slice::from_ref(&word)).await?;
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let cores = wanted.take(&mut tx).await?;
    let (core, context) = parse_save(&mut tx, user.user_id, body, &cores).await?;
    let stamp = Stamp {
        clock: StampClock::Server(&ctx.clock),
        always: false,
    };
    let saved = save_word(&mut tx, user.user_id, id, &core, context.as_ref(), stamp).await?;
    tx.commit().await?;
    let item = db::vocabulary::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let status = match saved {
        Saved::Created => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, axum::Json(item)))
}

/// The language and word of a word to save, checked (`language`, `word`).
pub(crate) fn parse_word(body: &SaveWord) -> Result<(LanguageTag, Word)> {
    let language = parse_language("language", &body.language)?;
    let word =
        Word::parse(&body.word, &language).map_err(|reason| Error::validation("word", reason))?;
    Ok((language, word))
}

/// Checks a word to save (the rules of `PUT /vocabulary/{id}`, which a
/// pushed saved word follows too) and gives its shared dictionary row,
/// from `cores`: the rows of the request's words, taken in `conn`'s
/// transaction before anything else (`dictionary::look_up`, ARCHITECTURE.md
/// "Lock order").
pub(crate) async fn parse_save(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    body: SaveWord,
    cores: &WordCores,
) -> Result<(WordCore, Option<Context>)> {
    let (language, word) = parse_word(&body)?;
    let context = match body.context {
        Some(context) => Some(parse_context(conn, user_id, context, &word, &language).await?),
        None => None,
    };
    let core = cores.get(conn, &word).await?;
    Ok((core, context))
}

/// Saves the item in `conn`'s transaction: `word_already_saved` (with the
/// id that saves it) when another live item has the word, a validation
/// error when this id saves another word.
pub(crate) async fn save_word(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    id: Uuid,
    core: &WordCore,
    context: Option<&Context>,
    stamp: Stamp<'_>,
) -> Result<Saved> {
    // A savepoint: the unique index's refusal aborts it, not the caller's
    // transaction, which then reads who saves the word.
    let mut attempt = sqlx::Connection::begin(&mut *conn).await?;
    let saved = db::vocabulary::save(&mut attempt, user_id, id, core.id, context, stamp).await;
    let saved = match saved {
        Err(sqlx::Error::Database(error))
            if error.constraint() == Some(db::vocabulary::ONE_PER_WORD) =>
        {
            attempt.rollback().await?;
            let existing_id = db::vocabulary::id_for_word(&mut *conn, user_id, core.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the item saving the word vanished"))?;
            return Err(Error::AlreadyExists {
                code: "word_already_saved",
                detail: format!("\"{}\" is saved already, as {existing_id}", core.word),
                existing_id,
            });
        }
        other => other?,
    };
    if saved == Saved::OtherWord {
        attempt.rollback().await?;
        return Err(Error::validation(
            "word",
            "this id saves another word; an item's word never changes (save the new word under a new id)",
        ));
    }
    attempt.commit().await?;
    Ok(saved)
}

/// The context, its surface a word of its sentence keyed as `word`, its
/// material and segment checked to be mine and to agree.
async fn parse_context(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    body: ContextBody,
    word: &Word,
    language: &LanguageTag,
) -> Result<Context> {
    let Some(sentence) = body.sentence else {
        return Err(match body.surface {
            Some(_) => Error::validation(
                "context.surface",
                "needs the sentence it was tapped in (context.sentence)",
            ),
            None => Error::validation("context.sentence", "is required"),
        });
    };
    let mut context = Context::parse(&sentence, body.material_id, body.segment_id, body.time_ms)
        .map_err(|(field, reason)| Error::validation(format!("context.{field}"), reason))?;
    context.surface = body
        .surface
        .map(|surface| parse_surface(&surface, &context.sentence, word, language))
        .transpose()
        .map_err(|reason| Error::validation("context.surface", reason))?;
    if let Some(segment_id) = context.segment_id {
        let segment = db::segments::get(&mut *conn, user_id, segment_id)
            .await?
            .ok_or_else(|| Error::validation("context.segment_id", "no such segment of mine"))?;
        match context.material_id {
            Some(material_id) if material_id != segment.material_id => {
                return Err(Error::validation(
                    "context.segment_id",
                    "is not a segment of context.material_id",
                ));
            }
            _ => context.material_id = Some(segment.material_id),
        }
    }
    if let Some(material_id) = context.material_id
        && db::materials::get(&mut *conn, user_id, material_id)
            .await?
            .is_none()
    {
        return Err(Error::validation(
            "context.material_id",
            "no such material of mine",
        ));
    }
    Ok(context)
}

#[utoipa::path(get, path = "/api/v1/vocabulary/{id}", tag = "vocabulary",
    params(("id" = Uuid, Path)), responses((status = 200, body = VocabularyItem), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_item(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<axum::Json<VocabularyItem>> {
    let item = db::vocabulary::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(item))
}

/// Soft-deletes the item (a tombstone for sync); its review log is kept.
#[utoipa::path(delete, path = "/api/v1/vocabulary/{id}", tag = "vocabulary",
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_item(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<StatusCode> {
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let stored = db::vocabulary::lock_stored(&mut *tx, user.user_id, id)
        .await?
        .filter(|stored| !stored.deleted)
        .ok_or(Error::NotFound)?;
    let hlc = ctx.clock.now_after(stored.hlc.as_deref())?.to_string();
    if !db::vocabulary::soft_delete(&mut *tx, user.user_id, id, &hlc).await? {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// RFC 3339: only words due by then (never-reviewed ones included),
    /// in due order. Absent: every word, most recently changed first.
    pub due_before: Option<DateTime<Utc>>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (of the same query).
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VocabularyPage {
    pub items: Vec<VocabularyItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub const MAX_PAGE: i64 = 200;

/// List my saved words.
#[utoipa::path(get, path = "/api/v1/vocabulary", tag = "vocabulary", params(ListQuery),
    responses((status = 200, body = VocabularyPage), (status = 422)), security(("bearer" = [])))]
pub async fn list_vocabulary(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<VocabularyPage>> {
    let limit = page_limit(query.limit, 50, MAX_PAGE)?;
    let due_order = query.due_before.is_some();
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| decode_cursor(cursor, due_order))
        .transpose()?;
    let mut items =
        db::vocabulary::list(&ctx.db, user.user_id, query.due_before, after, limit).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(usize::try_from(limit).unwrap_or_default());
        items.last().map(|last| {
            encode_cursor(if due_order {
                After::Due(last.next_review_at, last.id)
            } else {
                After::Change(last.change_seq)
            })
        })
    } else {
        None
    };
    Ok(axum::Json(VocabularyPage { items, next_cursor }))
}

fn encode_cursor(after: After) -> String {
    pagination::encode_cursor(&match after {
        After::Change(seq) => format!("c.{seq}"),
        After::Due(None, id) => format!("d.new.{id}"),
        After::Due(Some(at), id) => format!("d.{}.{id}", at.timestamp_micros()),
    })
}

fn decode_cursor(cursor: &str, due_order: bool) -> Result<After> {
    pagination::decode_cursor(cursor, |text| {
        let parts: Vec<&str> = text.split('.').collect();
        match (due_order, parts.as_slice()) {
            (false, ["c", seq]) => Some(After::Change(seq.parse().ok()?)),
            (true, ["d", "new", id]) => Some(After::Due(None, id.parse().ok()?)),
            (true, ["d", micros, id]) => Some(After::Due(
                Some(DateTime::from_timestamp_micros(micros.parse().ok()?)?),
                id.parse().ok()?,
            )),
            _ => None,
        }
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReviews {
    /// At most 500.
    pub reviews: Vec<ReviewBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// Chosen by the device that answered; a retried id is stored once.
    pub id: Uuid,
    /// RFC 3339; at most 5 minutes ahead of the server's clock.
    pub reviewed_at: DateTime<Utc>,
    /// 1 again, 2 hard, 3 good, 4 easy.
    pub rating: i64,
}

/// Append review answers (ids already stored are skipped) and derive the
/// word's schedule again from its whole log, as the browser does offline
/// with the same core function. Any bad review refuses the whole request.
#[utoipa::path(post, path = "/api/v1/vocabulary/{id}/reviews", tag = "vocabulary", request_body = AddReviews,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = VocabularyItem), (status = 404),
              (status = 413, description = "too_many_reviews (more than 500)"),
              (status = 422, description = "validation_failed naming `reviews[i].field`")),
    security(("bearer" = [])))]
pub async fn add_reviews(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    Json(body): Json<AddReviews>,
) -> Result<axum::Json<VocabularyItem>> {
    if body.reviews.len() > MAX_REVIEWS_PER_REQUEST {
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_reviews",
            format!(
                "reviews: {} given, at most {MAX_REVIEWS_PER_REQUEST} per request",
                body.reviews.len()
            ),
        ));
    }
    if body.reviews.is_empty() {
        return Err(Error::validation("reviews", "must not be empty"));
    }
    let now = Utc::now();
    let mut reviews = Vec::with_capacity(body.reviews.len());
    let mut positions: HashMap<Uuid, usize> = HashMap::new();
    for (index, review) in body.reviews.iter().enumerate() {
        let parsed = parse_review(review.id, review.reviewed_at, review.rating, now).map_err(
            |(field, reason)| Error::validation(format!("reviews[{index}].{field}"), reason),
        )?;
        match positions.get(&review.id) {
            Some(&first) if reviews.get(first) != Some(&parsed) => {
                return Err(Error::validation(
                    format!("reviews[{index}].id"),
                    format!("repeats reviews[{first}].id with another answer"),
                ));
            }
            Some(_) => {}
            None => {
                positions.insert(review.id, reviews.len());
                reviews.push(parsed);
            }
        }
    }
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    if !db::vocabulary::lock(&mut tx, user.user_id, id).await? {
        return Err(Error::NotFound);
    }
    let ids: Vec<Uuid> = reviews.iter().map(|review| review.id).collect();
    for (review_id, item_id) in db::vocabulary::review_owners(&mut tx, user.user_id, &ids).await? {
        if item_id != id {
            let index = body
                .reviews
                .iter()
                .position(|review| review.id == review_id)
                .unwrap_or_default();
            return Err(Error::validation(
                format!("reviews[{index}].id"),
                "is a review of another word",
            ));
        }
    }
    db::vocabulary::append_reviews(&mut tx, user.user_id, id, &reviews).await?;
    let log = db::vocabulary::log(&mut tx, user.user_id, id).await?;
    let schedule = echoloop_core::review::schedule(&log);
    db::vocabulary::set_schedule(&mut tx, user.user_id, id, &schedule).await?;
    tx.commit().await?;
    let item = db::vocabulary::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(item))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_within_their_own_order() {
        let id = Uuid::new_v4();
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        for (after, due) in [
            (After::Change(42), false),
            (After::Due(None, id), true),
            (After::Due(Some(at), id), true),
        ] {
            assert_eq!(decode_cursor(&encode_cursor(after), due).unwrap(), after);
            assert!(decode_cursor(&encode_cursor(after), !due).is_err());
        }
        assert!(decode_cursor("forged", false).is_err());
    }
}
