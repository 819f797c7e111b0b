//! What a plan allows. The one place that maps a subscription (plan +
//! status) to limits; later work (uploads, ASR, assessments) asks here and
//! nowhere else. The numbers come from configuration (`echoloop serve
//! --help`, "Plan limits").

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
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
    /// Minutes of media transcribed since the 1st (UTC), rounded up.
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
    let assessments_today = assessments_today(pool, user_id).await?;
    let storage_bytes = crate::db::uploads::storage_used(pool, user_id).await?;
    let transcribed_ms = crate::db::transcriptions::media_ms_this_month(pool, user_id).await?;
    Ok(Usage {
        storage_bytes: u64::try_from(storage_bytes).unwrap_or_default(),
        asr_minutes_this_month: u32::try_from(minutes_rounded_up(transcribed_ms))
            .unwrap_or(u32::MAX),
        assessments_today,
    })
}

/// Pronunciation assessments stored since midnight UTC; deleting one does
/// not give the unit back (the work was done).
pub async fn assessments_today(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u32, sqlx::Error> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pronunciation_assessments
         WHERE user_id = $1
           AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// The next midnight UTC after `now`, when the daily counts start again.
pub fn next_day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .succ_opt()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .unwrap_or(now + Duration::days(1))
}

/// The 1st of the next month, midnight UTC, when the monthly counts start
/// again.
pub fn next_month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = match now.month() {
        12 => (now.year() + 1, 1),
        month => (now.year(), month + 1),
    };
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .unwrap_or(now + Duration::days(31))
}

/// Whole minutes, a started one counting.
fn minutes_rounded_up(ms: i64) -> i64 {
    (ms.max(0) + 59_999) / 60_000
}

/// Why media cannot be transcribed now under a plan's monthly minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsrRefusal {
    /// Longer than the plan's whole month: no wait helps.
    NeverFits { detail: String },
    /// Fits once the month's count starts again.
    NotThisMonth { detail: String },
}

/// Whether `media_ms` more of transcription fits in the month, with
/// `used_ms` already transcribed. `None` for `media_ms`: not known yet,
/// only a used-up month refuses.
pub fn check_asr_minutes(
    limits: &PlanLimits,
    plan: &str,
    used_ms: i64,
    media_ms: Option<i64>,
) -> Result<(), AsrRefusal> {
    let limit_ms = i64::from(limits.asr_minutes_per_month) * 60_000;
    let minutes = minutes_rounded_up;
    let left_ms = (limit_ms - used_ms).max(0);
    let needed = media_ms.unwrap_or(1).max(1);
    if needed > limit_ms {
        return Err(AsrRefusal::NeverFits {
            detail: format!(
                "the media lasts {} min; the {plan} plan transcribes {} min a month",
                minutes(needed),
                limits.asr_minutes_per_month
            ),
        });
    }
    if needed > left_ms {
        return Err(AsrRefusal::NotThisMonth {
            detail: format!(
                "{} of the {plan} plan's {} transcription minutes are left this month; this media needs {}",
                left_ms / 60_000,
                limits.asr_minutes_per_month,
                minutes(needed)
            ),
        });
    }
    Ok(())
}

/// Seconds from `now` to the next midnight UTC, when the daily counts start
/// again (`Retry-After` of a daily limit).
pub fn seconds_until_next_day(now: DateTime<Utc>) -> u64 {
    u64::try_from((next_day_start(now) - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}

/// The plan and limits of a user, with their subscription row locked until
/// `tx` ends. Every write that checks a limit and then uses it (an upload
/// admitted against the storage quota, an assessment counted against the
/// day) holds this lock first, so two concurrent requests can never both
/// take the last unit; a plan change waits for them too.
pub async fn lock_limits(
    tx: &mut PgConnection,
    settings: &EntitlementSettings,
    user_id: Uuid,
) -> Result<(String, PlanLimits), sqlx::Error> {
    let (plan, status): (String, String) = sqlx::query_as(
        "SELECT plan::text, status::text FROM subscriptions WHERE user_id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_one(tx)
    .await?;
    let limits = limits_for(settings, &plan, &status).clone();
    Ok((plan, limits))
}

/// The plan and limits of a user, without locking (a look before the work;
/// [`lock_limits`] decides).
pub async fn plan_limits(
    conn: &mut PgConnection,
    settings: &EntitlementSettings,
    user_id: Uuid,
) -> Result<(String, PlanLimits), sqlx::Error> {
    let subscription = crate::db::subscriptions::for_user(&mut *conn, user_id).await?;
    let limits = limits_for(settings, &subscription.plan, &subscription.status).clone();
    Ok((subscription.plan, limits))
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
    fn daily_limits_reset_at_midnight_utc() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(seconds_until_next_day(at("2026-11-25T23:59:30Z")), 30);
        assert_eq!(seconds_until_next_day(at("2026-11-25T00:00:00Z")), 86_400);
        assert_eq!(seconds_until_next_day(at("2026-12-31T12:00:00Z")), 43_200);
    }

    #[test]
    fn monthly_limits_reset_on_the_first() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            next_month_start(at("2026-12-04T18:00:00Z")),
            at("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            next_month_start(at("2026-02-28T23:59:59Z")),
            at("2026-03-01T00:00:00Z")
        );
    }

    #[test]
    fn transcription_minutes_are_checked_against_what_is_left() {
        let limits = EntitlementSettings::default().free; // 30 minutes
        let min = 60_000;
        assert_eq!(
            check_asr_minutes(&limits, "free", 0, Some(30 * min)),
            Ok(())
        );
        assert_eq!(check_asr_minutes(&limits, "free", 10 * min, None), Ok(()));
        assert!(matches!(
            check_asr_minutes(&limits, "free", 0, Some(30 * min + 1)),
            Err(AsrRefusal::NeverFits { .. })
        ));
        let Err(AsrRefusal::NotThisMonth { detail }) =
            check_asr_minutes(&limits, "free", 25 * min, Some(6 * min))
        else {
            panic!("refused for this month");
        };
        assert_eq!(
            detail,
            "5 of the free plan's 30 transcription minutes are left this month; this media needs 6"
        );
        assert!(matches!(
            check_asr_minutes(&limits, "free", 30 * min, None),
            Err(AsrRefusal::NotThisMonth { .. })
        ));
    }

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
