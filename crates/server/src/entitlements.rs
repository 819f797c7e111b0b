//! What a plan allows. The one place that maps a subscription (plan +
//! status) to limits; later work (uploads, ASR, assessments) asks here and
//! nowhere else. The numbers come from configuration (`echoloop serve
//! --help`, "Plan limits").

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

pub const DEFAULT_FREE_STORAGE_MB: u64 = 500;
pub const DEFAULT_FREE_ASR_MINUTES: u32 = 30;
pub const DEFAULT_FREE_ASSESSMENTS_PER_DAY: u32 = 50;
pub const DEFAULT_PRO_STORAGE_MB: u64 = 20_000;
pub const DEFAULT_PRO_ASR_MINUTES: u32 = 600;
pub const DEFAULT_PRO_ASSESSMENTS_PER_DAY: u32 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanLimits {
    /// Whether large media (imported video/audio) is backed up to object
    /// storage; otherwise it stays on the learner's device and only its
    /// metadata syncs.
    pub large_media_backup: bool,
    /// Bytes of recordings and media kept in object storage.
    pub storage_bytes: u64,
    pub asr_minutes_per_month: u32,
    pub assessments_per_day: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementSettings {
    pub free: PlanLimits,
    pub pro: PlanLimits,
}

impl Default for EntitlementSettings {
    fn default() -> Self {
        EntitlementSettings {
            free: PlanLimits {
                large_media_backup: false,
                storage_bytes: DEFAULT_FREE_STORAGE_MB * 1_000_000,
                asr_minutes_per_month: DEFAULT_FREE_ASR_MINUTES,
                assessments_per_day: DEFAULT_FREE_ASSESSMENTS_PER_DAY,
            },
            pro: PlanLimits {
                large_media_backup: true,
                storage_bytes: DEFAULT_PRO_STORAGE_MB * 1_000_000,
                asr_minutes_per_month: DEFAULT_PRO_ASR_MINUTES,
                assessments_per_day: DEFAULT_PRO_ASSESSMENTS_PER_DAY,
            },
        }
    }
}

/// Pro limits apply while Stripe still considers the subscription in good
/// standing or in its dunning grace (`past_due`); anything else — canceled,
/// unpaid, incomplete, paused — falls back to the free limits.
pub fn limits_for<'a>(
    settings: &'a EntitlementSettings,
    plan: &str,
    status: &str,
) -> &'a PlanLimits {
    match (plan, status) {
        ("pro", "active" | "trialing" | "past_due") => &settings.pro,
        _ => &settings.free,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Usage {
    /// Stored media and recordings plus the declared size of unfinished uploads.
    pub storage_bytes: u64,
    /// Not counted yet: server-side ASR does not exist (0).
    pub asr_minutes_this_month: u32,
    /// Pronunciation assessments created since midnight UTC.
    pub assessments_today: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entitlements {
    pub plan: String,
    pub status: String,
    pub limits: PlanLimits,
    pub usage: Usage,
}

pub async fn usage(pool: &PgPool, user_id: Uuid) -> Result<Usage, sqlx::Error> {
    let assessments_today: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pronunciation_assessments
         WHERE user_id = $1 AND deleted_at IS NULL
           AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    let storage_bytes = crate::db::uploads::storage_used(pool, user_id).await?;
    Ok(Usage {
        storage_bytes: u64::try_from(storage_bytes).unwrap_or_default(),
        asr_minutes_this_month: 0,
        assessments_today: u32::try_from(assessments_today).unwrap_or(u32::MAX),
    })
}

pub async fn for_user(
    pool: &PgPool,
    settings: &EntitlementSettings,
    user_id: Uuid,
) -> Result<Entitlements, sqlx::Error> {
    let subscription = crate::db::subscriptions::for_user(pool, user_id).await?;
    let limits = limits_for(settings, &subscription.plan, &subscription.status).clone();
    Ok(Entitlements {
        plan: subscription.plan,
        status: subscription.status,
        limits,
        usage: usage(pool, user_id).await?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pro_in_good_standing_gets_pro_limits() {
        let settings = EntitlementSettings::default();
        for status in ["active", "trialing", "past_due"] {
            assert_eq!(
                limits_for(&settings, "pro", status),
                &settings.pro,
                "{status}"
            );
        }
    }

    #[test]
    fn lapsed_pro_and_free_get_free_limits() {
        let settings = EntitlementSettings::default();
        for status in [
            "canceled",
            "unpaid",
            "incomplete",
            "incomplete_expired",
            "paused",
        ] {
            assert_eq!(
                limits_for(&settings, "pro", status),
                &settings.free,
                "{status}"
            );
        }
        assert_eq!(limits_for(&settings, "free", "active"), &settings.free);
        assert!(!settings.free.large_media_backup);
    }
}
