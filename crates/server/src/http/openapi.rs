//! The OpenAPI document of the content API (`/api/openapi.json`) and a
//! docs page rendering it (`/api/docs`, Scalar, served offline).

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

use super::ApiContext;
use super::{
    accounts, assessments, billing, dictionary, materials, me, media, progress, recordings,
    segments, sessions, subtitle_import, sync, transcriptions, uploads, vocabulary,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Echoloop API",
        description = "Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code` \
                       and, for validation errors, the `field` at fault. Another user's ids answer 404.",
    ),
    paths(
        materials::create_material, materials::get_material, materials::update_material,
        materials::delete_material, materials::list_materials,
        segments::replace_segments, segments::list_segments, segments::get_segment, segments::update_segment,
        subtitle_import::import_segments,
        transcriptions::start_transcription, transcriptions::show_transcription,
        progress::get_progress, progress::put_progress,
        recordings::get_recording, recordings::list_recordings, recordings::delete_recording,
        assessments::create_assessment, assessments::list_assessments, assessments::get_assessment,
        uploads::options, uploads::create_upload, uploads::upload_status, uploads::append, uploads::terminate,
        media::material_media, media::recording_audio, media::material_media_link,
        media::recording_audio_link, media::linked_media,
        sync::pull, sync::push,
        accounts::register,
        sessions::login, sessions::list, sessions::logout, sessions::revoke, sessions::revoke_all,
        me::show, me::update, me::change_password, me::close, me::export, me::show_entitlements,
        billing::show, billing::checkout, billing::portal, billing::stripe_webhook,
        dictionary::lookup,
        vocabulary::save_item, vocabulary::get_item, vocabulary::delete_item, vocabulary::list_vocabulary,
        vocabulary::add_reviews,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "materials", description = "Videos and audios the learner shadows"),
        (name = "segments", description = "Timed sentences of a material (at most 20,000)"),
        (name = "progress", description = "Where the learner is in a material"),
        (name = "recordings", description = "The learner's recordings of a segment"),
        (name = "assessments", description = "Pronunciation assessments of a recording"),
        (name = "uploads", description = "Resumable uploads (tus 1.0: core, creation, creation-with-upload, termination)"),
        (name = "media", description = "Downloads with Range and ETag"),
        (name = "sync", description = "Every change after a change number, deletions included; a batch of a device's changes, each answered on its own (docs/api/sync.md)"),
        (name = "accounts", description = "Registration (docs/api/accounts.md)"),
        (name = "sessions", description = "Bearer sessions: log in, log out, list, revoke"),
        (name = "me", description = "My account: profile, password, deletion, export, entitlements"),
        (name = "billing", description = "Plans and Stripe (off unless configured)"),
        (name = "dictionary", description = "Words: pronunciation and meanings (docs/api/vocabulary.md)"),
        (name = "vocabulary", description = "Saved words, where they were met, and spaced-repetition reviews (docs/api/vocabulary.md)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(
            "/api/openapi.json",
            get(|| async { axum::Json(document()) }),
        )
        .merge(Scalar::with_url("/api/docs", document().clone()))
}
