//! `echoloop user ...`: account administration for operators. Each command
//! opens the database the way `serve` does (`DATABASE_URL` or the embedded
//! cluster) and goes through the same account rules as the API.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::accounts::{self, NewAccount};
use crate::billing::{self, StripeClient, StripeSettings};
use crate::cli::DatabaseArgs;
use crate::database;
use crate::db;
use crate::domain::{Email, LanguageTag, Password};
use crate::jobs::{JobContext, delete_account};
use crate::startup::Database;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (free plan unless --plan says otherwise); prints its id.
    Create(CreateArgs),
    /// List every account with its plan.
    List(ListArgs),
    /// Set an account's plan without Stripe (comps, support, self-hosting).
    SetPlan(SetPlanArgs),
    /// Delete an account and all its data now.
    Delete(DeleteArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Plan {
    Free,
    Pro,
}

impl Plan {
    fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The account's email address.
    #[arg(long, env = "ECHOLOOP_USER_EMAIL")]
    pub email: String,
    /// The password (8 to 1024 characters). Prefer the environment variable:
    /// command lines are visible to other local users.
    #[arg(long, env = "ECHOLOOP_USER_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The learner's native language as a BCP 47 tag, e.g. zh-CN.
    #[arg(long, env = "ECHOLOOP_USER_NATIVE_LANGUAGE")]
    pub native_language: String,
    /// The language being learned, as a BCP 47 tag.
    #[arg(long, env = "ECHOLOOP_USER_LEARNING_LANGUAGE")]
    pub learning_language: Option<String>,
    /// The plan to start on.
    #[arg(long, env = "ECHOLOOP_USER_PLAN", value_enum, default_value_t = Plan::Free)]
    pub plan: Plan,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Output format.
    #[arg(long, env = "ECHOLOOP_USER_LIST_FORMAT", value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct SetPlanArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The account's email address.
    #[arg(long, env = "ECHOLOOP_USER_EMAIL")]
    pub email: String,
    /// The new plan (status becomes active).
    #[arg(long, env = "ECHOLOOP_USER_PLAN", value_enum)]
    pub plan: Plan,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The account's email address.
    #[arg(long, env = "ECHOLOOP_USER_EMAIL")]
    pub email: String,
    /// Stripe secret API key: with it, the account's Stripe customer is deleted too
    /// (which cancels its subscriptions). Without it, a paying account is refused.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Stripe's API base URL.
    #[arg(long, env = "STRIPE_API_BASE", default_value = billing::DEFAULT_API_BASE)]
    pub stripe_api_base: String,
    /// Where the account's media and recordings are stored (as for `serve`).
    #[command(flatten)]
    pub storage: crate::cli::StorageArgs,
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    let args = match &command {
        UserCommand::Create(args) => &args.database,
        UserCommand::List(args) => &args.database,
        UserCommand::SetPlan(args) => &args.database,
        UserCommand::Delete(args) => &args.database,
    };
    let db = Database::open(args).await?;
    let result = match database::migrations_current(&db.pool).await {
        Ok(true) => execute(&db, command).await,
        Ok(false) => Err(anyhow::anyhow!(
            "the database is missing migrations; run `echoloop migrate` first"
        )),
        Err(error) => {
            Err(anyhow::Error::new(error).context("cannot read the database's migrations"))
        }
    };
    db.close().await;
    result
}

fn parse_email(email: &str) -> anyhow::Result<Email> {
    Email::parse(email).map_err(|detail| anyhow::anyhow!("--email: {detail}"))
}

async fn execute(db: &Database, command: UserCommand) -> anyhow::Result<()> {
    let pool = &db.pool;
    match command {
        UserCommand::Create(args) => {
            let account = NewAccount {
                email: parse_email(&args.email)?,
                password: Password::parse(&args.password)
                    .map_err(|detail| anyhow::anyhow!("--password: {detail}"))?,
                native_language: LanguageTag::parse(&args.native_language)
                    .map_err(|detail| anyhow::anyhow!("--native-language: {detail}"))?,
                learning_language: args
                    .learning_language
                    .as_deref()
                    .map(LanguageTag::parse)
                    .transpose()
                    .map_err(|detail| anyhow::anyhow!("--learning-language: {detail}"))?,
            };
            let (user, tx) = accounts::create(pool, account).await?;
            tx.commit().await?;
            if args.plan != Plan::Free {
                db::subscriptions::set_plan(pool, user.id, args.plan.as_str(), "active").await?;
            }
            println!("{}", user.id);
        }
        UserCommand::List(args) => {
            let users = db::users::list(pool).await?;
            match args.format {
                ListFormat::Json => println!("{}", serde_json::to_string_pretty(&users)?),
                ListFormat::Text => {
                    println!(
                        "{:<36}  {:<40}  {:<8}  {:<8}  {:<10}  CREATED",
                        "ID", "EMAIL", "PLAN", "STATUS", "NATIVE"
                    );
                    for user in users {
                        let email = if user.deleted_at.is_some() {
                            format!("{} (deleting)", user.email)
                        } else {
                            user.email
                        };
                        println!(
                            "{:<36}  {:<40}  {:<8}  {:<8}  {:<10}  {}",
                            user.id,
                            email,
                            user.plan,
                            user.status,
                            user.native_language,
                            user.created_at.format("%Y-%m-%d %H:%M")
                        );
                    }
                }
            }
        }
        UserCommand::SetPlan(args) => {
            let email = parse_email(&args.email)?;
            let user = db::users::find_by_email(pool, email.as_str())
                .await?
                .with_context(|| format!("no account with email {email}"))?;
            db::subscriptions::set_plan(pool, user.id, args.plan.as_str(), "active").await?;
            println!("{email}: plan {}", args.plan.as_str());
        }
        UserCommand::Delete(args) => {
            let email = parse_email(&args.email)?;
            let user = db::users::find_by_email(pool, email.as_str())
                .await?
                .with_context(|| format!("no account with email {email}"))?;
            let stripe = args
                .stripe_secret_key
                .filter(|key| !key.is_empty())
                .map(|secret_key| {
                    StripeClient::new(StripeSettings {
                        secret_key,
                        webhook_secret: String::new(),
                        pro_price_id: None,
                        api_base: args.stripe_api_base.clone(),
                        public_url: String::new(),
                        webhook_tolerance: billing::WEBHOOK_TOLERANCE,
                    })
                });
            let storage = args.storage.open(&args.database.data_dir)?;
            let subscription = db::subscriptions::for_user(pool, user.id).await?;
            if stripe.is_none() && subscription.stripe_customer_id.is_some() {
                anyhow::bail!(
                    "{email} has a Stripe customer; set STRIPE_SECRET_KEY so it is deleted (and billing stops) with the account"
                );
            }
            // The same work as the background job, done now, in one
            // transaction. Like the job, it takes the learner's change
            // counter itself, after its calls to the store: none waits
            // under it.
            let mut tx = pool.begin().await?;
            delete_account::schedule(&mut tx, user.id).await?;
            delete_account::run(
                &mut tx,
                &delete_account::payload(user.id),
                &JobContext {
                    stripe,
                    storage,
                    scoring: None,
                    transcription: None,
                    entitlements: Default::default(),
                    clock: Default::default(),
                },
            )
            .await?;
            db::jobs::cancel(
                &mut tx,
                delete_account::KIND,
                &delete_account::payload(user.id),
            )
            .await?;
            tx.commit().await?;
            println!("{email}: deleted");
        }
    }
    Ok(())
}
