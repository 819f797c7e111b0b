//! `/api/v1/materials`: create (client-chosen id; deterministic v5 id for
//! platform materials), read, update, soft delete, list with filters and
//! opaque cursors.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{Json, PathId, Query};
use super::pagination::{self, page_limit};
use crate::db;
use crate::db::materials::{ListFilter, Material, MaterialChanges, NewMaterial};
use crate::domain::material::platform_material_id;
use crate::domain::{DurationMs, LanguageTag, MaterialKind, Metadata, SourceType, Title};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/materials", get(list_materials).post(create_material))
        .route(
            "/materials/{id}",
            get(get_material)
                .patch(update_material)
                .delete(delete_material),
        )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaterial {
    /// Client-chosen id. Platform materials: omit, or send the v5 id of `<platform>:<external_id>`.
    pub id: Option<Uuid>,
    #[serde(rename = "type")]
    pub kind: MaterialKind,
    pub source_type: SourceType,
    pub title: String,
    /// BCP 47 tag, e.g. `en-US`.
    pub language: Option<String>,
    /// `external_id` (required for youtube/netflix), `thumbnails`, other keys kept.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Milliseconds, when known.
    pub duration: Option<i64>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMaterial {
    pub title: Option<String>,
    /// `null` clears the language.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    pub duration: Option<i64>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn parse_language(input: Option<&str>) -> Result<Option<LanguageTag>> {
    input
        .map(|tag| LanguageTag::parse(tag).map_err(|reason| Error::validation("language", reason)))
        .transpose()
}

fn parse_duration(input: Option<i64>) -> Result<Option<DurationMs>> {
    input
        .map(|ms| DurationMs::parse(ms).map_err(|reason| Error::validation("duration", reason)))
        .transpose()
}

fn parse_metadata(value: serde_json::Value, source: SourceType) -> Result<Metadata> {
    Metadata::parse(value, source).map_err(|error| Error::validation(error.path, error.reason))
}

/// A material to create, every field checked (the rules of `POST
/// /materials`, which a pushed material's upsert follows too).
#[derive(Debug, Clone)]
pub(crate) struct ValidMaterial {
    pub id: Uuid,
    kind: MaterialKind,
    source_type: SourceType,
    title: Title,
    language: Option<LanguageTag>,
    metadata: Metadata,
    duration: Option<DurationMs>,
}

impl ValidMaterial {
    pub fn new_row(&self) -> NewMaterial<'_> {
        NewMaterial {
            id: self.id,
            kind: self.kind,
            source_type: self.source_type,
            title: self.title.as_str(),
            language: self.language.as_ref().map(LanguageTag::as_str),
            metadata: self.metadata.clone().into_value(),
            duration: self.duration.map(DurationMs::get),
        }
    }
}

/// Checks a material to create; a platform material's id is derived from
/// its external id (and a given one must be that). Fields are named as in
/// the body (`title`, `metadata.external_id`, `id`, …).
pub(crate) fn validate_new(body: CreateMaterial) -> Result<ValidMaterial> {
    let title = Title::parse(&body.title).map_err(|reason| Error::validation("title", reason))?;
    let language = parse_language(body.language.as_deref())?;
    let duration = parse_duration(body.duration)?;
    let metadata = parse_metadata(body.metadata, body.source_type)?;
    let id = match (body.source_type.platform(), metadata.external_id()) {
        (Some(platform), Some(external_id)) => {
            let derived = platform_material_id(platform, external_id);
            if body.id.is_some_and(|id| id != derived) {
                return Err(Error::validation(
                    "id",
                    format!(
                        "a {platform} material's id is the UUID v5 of \"{platform}:{external_id}\" ({derived})"
                    ),
                ));
            }
            derived
        }
        _ => body.id.ok_or_else(|| {
            Error::validation("id", "is required for local uploads (a client-chosen UUID)")
        })?,
    };
    Ok(ValidMaterial {
        id,
        kind: body.kind,
        source_type: body.source_type,
        title,
        language,
        metadata,
        duration,
    })
}

/// Create a material. 201 when created, 200 with the existing material when
/// this id exists already (creation is idempotent).
#[utoipa::path(post, path = "/api/v1/materials", tag = "materials", request_body = CreateMaterial,
    responses((status = 201, body = Material), (status = 200, body = Material, description = "already existed"),
              (status = 422, description = "validation_failed, naming the field")),
    security(("bearer" = [])))]
pub async fn create_material(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Json(body): Json<CreateMaterial>,
) -> Result<impl IntoResponse> {
    let valid = validate_new(body)?;
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let stored = db::materials::lock_stored(&mut *tx, user.user_id, valid.id).await?;
    let created = match &stored {
        Some(stored) if !stored.deleted => None,
        // New, or a tombstone revived: stamped after the delete's clock.
        _ => {
            let tombstone = stored.as_ref().and_then(|stored| stored.hlc.as_deref());
            let hlc = ctx.clock.now_after(tombstone)?.to_string();
            db::materials::insert(&mut *tx, user.user_id, valid.new_row(), &hlc).await?
        }
    };
    let answer = match created {
        Some(material) => (StatusCode::CREATED, material),
        None => {
            let existing = db::materials::get(&mut *tx, user.user_id, valid.id)
                .await?
                .ok_or(Error::NotFound)?;
            (StatusCode::OK, existing)
        }
    };
    tx.commit().await?;
    Ok((answer.0, axum::Json(answer.1)))
}

#[utoipa::path(get, path = "/api/v1/materials/{id}", tag = "materials",
    params(("id" = Uuid, Path)), responses((status = 200, body = Material), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_material(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<axum::Json<Material>> {
    let material = db::materials::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(material))
}

/// The checked changes of a material update.
pub(crate) struct ValidChanges {
    title: Option<Title>,
    language: Option<Option<LanguageTag>>,
    metadata: Option<Metadata>,
    duration: Option<DurationMs>,
}

impl ValidChanges {
    pub fn as_changes(&self) -> MaterialChanges<'_> {
        MaterialChanges {
            title: self.title.as_ref().map(Title::as_str),
            language: self
                .language
                .as_ref()
                .map(|tag| tag.as_ref().map(LanguageTag::as_str)),
            metadata: self.metadata.clone().map(Metadata::into_value),
            duration: self.duration.map(DurationMs::get),
        }
    }
}

/// Checks an update of material `id` (the rules of `PATCH
/// /materials/{id}`, which a pushed upsert of an existing material follows
/// too): the external id the id derives from stays, and the duration does
/// not cut the last segment.
pub(crate) async fn validate_changes(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
    source_type: SourceType,
    external_id: Option<&str>,
    body: UpdateMaterial,
) -> Result<ValidChanges> {
    let title = body
        .title
        .as_deref()
        .map(|title| Title::parse(title).map_err(|reason| Error::validation("title", reason)))
        .transpose()?;
    let language = body
        .language
        .as_ref()
        .map(|tag| parse_language(tag.as_deref()))
        .transpose()?;
    let duration = parse_duration(body.duration)?;
    let metadata = body
        .metadata
        .map(|value| parse_metadata(value, source_type))
        .transpose()?;
    if let Some(metadata) = &metadata
        && metadata.external_id() != external_id
    {
        return Err(Error::validation(
            "metadata.external_id",
            "cannot change: the material's id derives from it",
        ));
    }
    if let Some(duration) = duration
        && let Some(end) = db::materials::last_segment_end(db, user_id, id).await?
        && end > duration.get()
    {
        return Err(Error::validation(
            "duration",
            format!("is shorter than the last segment's end ({end} ms)"),
        ));
    }
    Ok(ValidChanges {
        title,
        language,
        metadata,
        duration,
    })
}

/// Change title, language, metadata or duration (type and source are fixed).
#[utoipa::path(patch, path = "/api/v1/materials/{id}", tag = "materials", request_body = UpdateMaterial,
    params(("id" = Uuid, Path)), responses((status = 200, body = Material), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update_material(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    Json(body): Json<UpdateMaterial>,
) -> Result<axum::Json<Material>> {
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let current = db::materials::lock_stored(&mut *tx, user.user_id, id)
        .await?
        .filter(|stored| !stored.deleted)
        .ok_or(Error::NotFound)?;
    let changes = validate_changes(
        &mut *tx,
        user.user_id,
        id,
        current.source_type,
        current.external_id.as_deref(),
        body,
    )
    .await?;
    let hlc = ctx.clock.now_after(current.hlc.as_deref())?.to_string();
    let material = db::materials::update(&mut *tx, user.user_id, id, changes.as_changes(), &hlc)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(axum::Json(material))
}

/// Soft-deletes the material with its segments, progress and recordings,
/// and removes its objects from storage.
#[utoipa::path(delete, path = "/api/v1/materials/{id}", tag = "materials",
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_material(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<StatusCode> {
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    // The delete replaces the material and its live children: later than
    // every one of their clocks.
    let latest = db::materials::lock_latest_clock(&mut tx, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let hlc = ctx.clock.now_after(latest.as_deref())?.to_string();
    let keys = db::materials::soft_delete_in(&mut tx, user.user_id, id, &hlc)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    ctx.settings.storage.delete_quietly(keys).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<MaterialKind>)]
    pub kind: Option<MaterialKind>,
    #[param(value_type = Option<SourceType>)]
    pub source_type: Option<SourceType>,
    pub language: Option<String>,
    /// RFC 3339; only materials changed after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MaterialPage {
    pub items: Vec<Material>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub const MAX_PAGE: i64 = 200;

/// List my materials, most recently changed first.
#[utoipa::path(get, path = "/api/v1/materials", tag = "materials", params(ListQuery),
    responses((status = 200, body = MaterialPage), (status = 422)), security(("bearer" = [])))]
pub async fn list_materials(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<MaterialPage>> {
    let limit = page_limit(query.limit, 50, MAX_PAGE)?;
    let language = parse_language(query.language.as_deref())?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = ListFilter {
        kind: query.kind,
        source_type: query.source_type,
        language: language.as_ref().map(LanguageTag::as_str),
        updated_since: query.updated_since,
        after,
    };
    let mut items = db::materials::list(&ctx.db, user.user_id, &filter, limit).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(usize::try_from(limit).unwrap_or_default());
        items
            .last()
            .map(|last| encode_cursor(last.updated_at, last.id))
    } else {
        None
    };
    Ok(axum::Json(MaterialPage { items, next_cursor }))
}

fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    pagination::encode_cursor(&format!("{}.{id}", at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid)> {
    pagination::decode_cursor(cursor, |text| {
        let (micros, id) = text.split_once('.')?;
        let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some((at, id.parse().ok()?))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode_cursor(&encode_cursor(at, id)).unwrap(), (at, id));
    }

    #[test]
    fn forged_cursors_are_rejected() {
        assert!(decode_cursor("not-a-cursor").is_err());
        assert!(decode_cursor(&pagination::encode_cursor("12.not-a-uuid")).is_err());
    }
}
