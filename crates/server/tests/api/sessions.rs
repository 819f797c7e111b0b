//! `/api/v1/sessions`: log in, log out, list and revoke sessions; and the
//! bearer-token check every private endpoint shares.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_with_the_right_password_opens_a_new_session() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let response = app.try_login(" Learner@Example.com", PASSWORD).await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["user"]["id"], user.id.to_string());
    let token = body["token"].as_str().unwrap();
    assert_ne!(token, user.token);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 2);
    let me = app.authed(Method::GET, "/me", token).send().await.unwrap();
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn login_with_wrong_password_is_rejected() {
    let app = spawn_app().await;
    app.register("learner@example.com").await;
    let response = app.try_login("learner@example.com", "wrong password").await;
    let body = assert_problem(response, 401, "invalid_credentials").await;
    assert_eq!(body["detail"], "the email or password is incorrect");
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn login_with_an_unknown_email_looks_and_takes_the_same_as_a_wrong_password() {
    let app = spawn_app().await;
    app.register("learner@example.com").await;
    let attempt = |email: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            let response = app.try_login(email, "wrong password").await;
            let elapsed = started.elapsed();
            (response.status(), response.text().await.unwrap(), elapsed)
        }
    };
    let mut known = Duration::ZERO;
    let mut unknown = Duration::ZERO;
    let (mut known_body, mut unknown_body) = (String::new(), String::new());
    for _ in 0..3 {
        let (status, body, elapsed) = attempt("learner@example.com").await;
        assert_eq!(status, 401);
        known += elapsed;
        known_body = body;
        let (status, body, elapsed) = attempt("nobody@example.com").await;
        assert_eq!(status, 401);
        unknown += elapsed;
        unknown_body = body;
    }
    assert_eq!(known_body, unknown_body, "the answers must be identical");
    // Both verify an argon2id digest: neither is a fast path.
    assert!(
        unknown * 2 >= known,
        "unknown {unknown:?} vs known {known:?}"
    );
    assert!(
        known * 2 >= unknown,
        "unknown {unknown:?} vs known {known:?}"
    );
}

#[tokio::test]
async fn private_endpoints_without_a_valid_token_answer_401_with_www_authenticate() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let requests = [
        app.client.get(app.url("/api/v1/me")),
        app.client
            .get(app.url("/api/v1/me"))
            .header("authorization", "Bearer "),
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth("not-a-real-token"),
        app.client
            .get(app.url("/api/v1/me"))
            .header("authorization", format!("Basic {}", user.token)),
        app.client.get(app.url("/api/v1/sessions")),
        app.client.get(app.url("/api/v1/me/entitlements")),
        app.client.get(app.url("/api/v1/me/export")),
        app.client.get(app.url("/api/v1/billing/subscription")),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"echoloop\""
        );
        assert_problem(response, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let response = app
        .authed(Method::DELETE, "/sessions/current", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
    let response = app
        .authed(Method::GET, "/me", &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn the_session_list_shows_only_my_sessions_and_marks_the_current_one() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let second = app.login("learner@example.com").await;
    let other = app.register_user().await;
    let response = app
        .authed(Method::GET, "/sessions", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sessions: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["current"], true, "most recently used first");
    for session in &sessions {
        assert!(session.get("token_hash").is_none());
        assert!(session["expires_at"].is_string());
    }
    let others: Vec<serde_json::Value> = app.get_json("/sessions", &other.token).await;
    assert_eq!(others.len(), 1);
    let _ = user;
}

#[tokio::test]
async fn revoking_one_session_ends_it_and_leaves_the_others() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let second = app.login("learner@example.com").await;
    let sessions: Vec<serde_json::Value> = app.get_json("/sessions", &user.token).await;
    let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .authed(
            Method::DELETE,
            &format!("/sessions/{other_id}"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.authed(Method::GET, "/me", &second)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.authed(Method::GET, "/me", &user.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn another_users_session_cannot_be_listed_or_revoked() {
    let app = spawn_app().await;
    let victim = app.register_user().await;
    let attacker = app.register_user().await;
    let victim_session: String =
        sqlx::query_scalar("SELECT id::text FROM sessions WHERE user_id = $1")
            .bind(victim.id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let response = app
        .authed(
            Method::DELETE,
            &format!("/sessions/{victim_session}"),
            &attacker.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
    let response = app
        .authed(Method::DELETE, "/sessions/not-a-uuid", &attacker.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
    assert_eq!(
        app.authed(Method::GET, "/me", &victim.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let listed: Vec<serde_json::Value> = app.get_json("/sessions", &attacker.token).await;
    assert!(listed.iter().all(|s| s["id"] != victim_session.as_str()));
}

#[tokio::test]
async fn revoking_all_sessions_ends_every_one_of_mine_only() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let second = app.login("learner@example.com").await;
    let other = app.register_user().await;
    let response = app
        .authed(Method::DELETE, "/sessions", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for token in [&user.token, &second] {
        assert_eq!(
            app.authed(Method::GET, "/me", token)
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
    assert_eq!(
        app.authed(Method::GET, "/me", &other.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn an_expired_session_is_rejected() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    sqlx::query("UPDATE sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let response = app
        .authed(Method::GET, "/me", &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn using_a_session_slides_its_expiry_and_records_the_use() {
    let app = spawn_app_with(|settings| settings.session_ttl = Duration::from_secs(3600)).await;
    let user = app.register_user().await;
    sqlx::query(
        "UPDATE sessions SET created_at = now() - interval '2 hours', last_used_at = now() - interval '1 hour',
                             expires_at = now() + interval '1 minute'",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        app.authed(Method::GET, "/me", &user.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (remaining, since_use): (f64, f64) = sqlx::query_as(
        "SELECT extract(epoch FROM expires_at - now())::float8, extract(epoch FROM now() - last_used_at)::float8 FROM sessions",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(remaining > 3500.0, "{remaining}");
    assert!(since_use < 60.0, "{since_use}");
}

#[tokio::test]
async fn login_is_rate_limited_per_account_even_with_the_right_password() {
    let app = spawn_app_with(|settings| settings.rate_limits.login_per_account = 3).await;
    app.register("learner@example.com").await;
    for _ in 0..3 {
        let response = app.try_login("learner@example.com", "wrong password").await;
        assert_eq!(response.status(), 401);
    }
    let response = app.try_login("learner@example.com", PASSWORD).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 429, "rate_limited").await;
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
    // Another account from the same address is unaffected.
    app.register("other@example.com").await;
    app.login("other@example.com").await;
}

#[tokio::test]
async fn login_is_rate_limited_per_ip_across_accounts_and_instances() {
    let app = spawn_app_with(|settings| settings.rate_limits.login_per_ip = 4).await;
    let second = app
        .second_instance(|settings| settings.rate_limits.login_per_ip = 4)
        .await;
    for (n, base) in [&app.address, &second.address, &app.address, &second.address]
        .into_iter()
        .enumerate()
    {
        let response = app
            .client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({ "email": format!("user{n}@example.com"), "password": "wrong password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    let response = app
        .client
        .post(second.url("/api/v1/sessions"))
        .json(&json!({ "email": "user9@example.com", "password": "wrong password" }))
        .send()
        .await
        .unwrap();
    assert_problem(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn the_client_ip_header_is_used_when_configured() {
    let app = spawn_app_with(|settings| {
        settings.rate_limits.login_per_ip = 1;
        settings.rate_limits.client_ip_header = Some("x-real-ip".into());
    })
    .await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let response = app
            .client
            .post(app.url("/api/v1/sessions"))
            .header("x-real-ip", ip)
            .json(&json!({ "email": "a@example.com", "password": "wrong password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{ip}");
    }
    let response = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("x-real-ip", "203.0.113.1")
        .json(&json!({ "email": "b@example.com", "password": "wrong password" }))
        .send()
        .await
        .unwrap();
    assert_problem(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn a_malformed_login_email_is_rejected_naming_the_field() {
    let app = spawn_app().await;
    let response = app.try_login("nope", PASSWORD).await;
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(body["field"], "email");
}
