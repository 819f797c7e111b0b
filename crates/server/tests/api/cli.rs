//! `echoloop user ...`, run as the built binary against the test database.

use std::process::{Command, Output};

use crate::helpers::{PASSWORD, TestDb, cluster};

fn echoloop(db: &TestDb, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let url = format!(
        "postgres://echoloop@localhost/{}?host={}",
        db.name,
        cluster().socket_dir().display()
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_echoloop"));
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env("ECHOLOOP_LOG", "warn");
    for var in [
        "STRIPE_SECRET_KEY",
        "ECHOLOOP_USER_EMAIL",
        "ECHOLOOP_USER_PASSWORD",
        "ECHOLOOP_USER_NATIVE_LANGUAGE",
        "ECHOLOOP_USER_PLAN",
    ] {
        command.env_remove(var);
    }
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().expect("run the echoloop binary")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn user_create_list_set_plan_and_delete_work_on_the_database() {
    let db = TestDb::new().await;
    let created = echoloop(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Op@Example.com",
            "--native-language",
            "de",
        ],
        &[("ECHOLOOP_USER_PASSWORD", PASSWORD)],
    );
    let id: uuid::Uuid = stdout(&created).trim().parse().expect("prints the new id");
    let (email, plan): (String, String) = sqlx::query_as(
        "SELECT u.email, s.plan::text FROM users u JOIN subscriptions s ON s.user_id = u.id WHERE u.id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((email.as_str(), plan.as_str()), ("op@example.com", "free"));

    let listed = stdout(&echoloop(&db, &["user", "list", "--format", "json"], &[]));
    let users: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(users[0]["email"], "op@example.com");
    assert_eq!(users[0]["plan"], "free");
    assert!(stdout(&echoloop(&db, &["user", "list"], &[])).contains("op@example.com"));

    stdout(&echoloop(
        &db,
        &["user", "set-plan", "--plan", "pro"],
        &[("ECHOLOOP_USER_EMAIL", "op@example.com")],
    ));
    let plan: String =
        sqlx::query_scalar("SELECT plan::text FROM subscriptions WHERE user_id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(plan, "pro");

    stdout(&echoloop(
        &db,
        &["user", "delete", "--email", "op@example.com"],
        &[],
    ));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let subscriptions: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((users, subscriptions, jobs), (0, 0, 0));
}

#[tokio::test]
async fn user_create_rejects_bad_input_naming_the_option_and_writes_nothing() {
    let db = TestDb::new().await;
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "user",
                "create",
                "--email",
                "nope",
                "--native-language",
                "de",
            ],
            "--email",
        ),
        (
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--native-language",
                "elvish",
            ],
            "--native-language",
        ),
        (
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--native-language",
                "de",
                "--password",
                "short",
            ],
            "--password",
        ),
    ];
    for (args, option) in cases {
        let output = echoloop(&db, args, &[("ECHOLOOP_USER_PASSWORD", PASSWORD)]);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(option), "{stderr}");
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn a_duplicate_email_and_an_unknown_account_are_errors() {
    let db = TestDb::new().await;
    let envs = [("ECHOLOOP_USER_PASSWORD", PASSWORD)];
    stdout(&echoloop(
        &db,
        &[
            "user",
            "create",
            "--email",
            "a@example.com",
            "--native-language",
            "en",
        ],
        &envs,
    ));
    let again = echoloop(
        &db,
        &[
            "user",
            "create",
            "--email",
            "A@example.com",
            "--native-language",
            "en",
        ],
        &envs,
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let missing = echoloop(
        &db,
        &[
            "user",
            "set-plan",
            "--email",
            "b@example.com",
            "--plan",
            "pro",
        ],
        &[],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account"));
}

#[tokio::test]
async fn deleting_a_paying_account_without_the_stripe_key_is_refused() {
    let db = TestDb::new().await;
    let envs = [("ECHOLOOP_USER_PASSWORD", PASSWORD)];
    stdout(&echoloop(
        &db,
        &[
            "user",
            "create",
            "--email",
            "payer@example.com",
            "--native-language",
            "en",
        ],
        &envs,
    ));
    sqlx::query("UPDATE subscriptions SET plan = 'pro', stripe_customer_id = 'cus_Paying'")
        .execute(&db.pool)
        .await
        .unwrap();
    let output = echoloop(
        &db,
        &["user", "delete", "--email", "payer@example.com"],
        &[],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("STRIPE_SECRET_KEY"));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE deleted_at IS NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, 1, "nothing was deleted");
}
