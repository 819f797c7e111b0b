use std::time::{Duration, Instant};

use echoloop_server::database::{self, EmbeddedPostgres};
use echoloop_server::http::HttpSettings;
use echoloop_server::startup::Application;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{postmaster_pid, reachable_tempdir};

async fn start(cluster: &EmbeddedPostgres) {
    let starting = cluster.clone();
    tokio::task::spawn_blocking(move || starting.start())
        .await
        .unwrap()
        .unwrap();
}

async fn stop(cluster: &EmbeddedPostgres) {
    let stopping = cluster.clone();
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap()
        .unwrap();
}

async fn write_marker(cluster: &EmbeddedPostgres, value: &str) {
    database::ensure_database(cluster, "echoloop")
        .await
        .unwrap();
    let pool = database::connect(cluster.connect_options("echoloop"), 2)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS marker (value text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO marker VALUES ($1)")
        .bind(value)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn read_markers(cluster: &EmbeddedPostgres) -> Vec<String> {
    let pool = database::connect(cluster.connect_options("echoloop"), 2)
        .await
        .unwrap();
    let values = sqlx::query_scalar("SELECT value FROM marker ORDER BY value")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    values
}

fn wait_until_dead(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while kill(Pid::from_raw(pid), None).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_cluster_keeps_its_data_across_a_restart() {
    let dir = reachable_tempdir();
    let cluster = EmbeddedPostgres::locate(dir.path()).unwrap();
    start(&cluster).await;
    write_marker(&cluster, "before restart").await;
    stop(&cluster).await;
    assert!(!cluster.is_running());
    assert!(
        !cluster.cluster_dir().join("postmaster.pid").exists(),
        "a clean stop removes the pid file"
    );

    start(&cluster).await;
    assert_eq!(read_markers(&cluster).await, ["before restart"]);
    stop(&cluster).await;
}

/// The settings written at every start (`echoloop.conf`) are the ones the
/// server runs with: no TCP listener, and the WAL tuning for list writes.
#[tokio::test]
async fn the_cluster_runs_with_the_settings_echoloop_writes() {
    let dir = reachable_tempdir();
    let cluster = EmbeddedPostgres::locate(dir.path()).unwrap();
    start(&cluster).await;
    let pool = database::connect(cluster.connect_options("postgres"), 1)
        .await
        .unwrap();
    for (name, expected) in [
        ("listen_addresses", ""),
        ("wal_buffers", "32MB"),
        ("wal_writer_delay", "10ms"),
    ] {
        let value: String = sqlx::query_scalar("SELECT current_setting($1)")
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(value, expected, "{name}");
    }
    pool.close().await;
    stop(&cluster).await;
}

#[tokio::test]
async fn the_cluster_starts_again_after_postgres_was_killed() {
    let dir = reachable_tempdir();
    let cluster = EmbeddedPostgres::locate(dir.path()).unwrap();
    start(&cluster).await;
    write_marker(&cluster, "acknowledged").await;

    let pid = postmaster_pid(cluster.cluster_dir()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    wait_until_dead(pid);
    assert!(
        cluster.cluster_dir().join("postmaster.pid").exists(),
        "a killed postmaster leaves its pid file"
    );
    assert!(!cluster.is_running());

    start(&cluster).await;
    assert!(cluster.is_running());
    assert_eq!(
        read_markers(&cluster).await,
        ["acknowledged"],
        "committed data survives the crash"
    );
    stop(&cluster).await;
}

#[tokio::test]
async fn a_stale_pid_file_naming_another_live_process_does_not_block_start() {
    let dir = reachable_tempdir();
    let cluster = EmbeddedPostgres::locate(dir.path()).unwrap();
    start(&cluster).await;
    stop(&cluster).await;
    // After a crash the old pid is often reused; point it at this test process.
    let stale = format!(
        "{}\n{}\n",
        std::process::id(),
        cluster.cluster_dir().display()
    );
    std::fs::write(cluster.cluster_dir().join("postmaster.pid"), stale).unwrap();

    start(&cluster).await;
    assert!(cluster.is_running());
    assert_ne!(
        postmaster_pid(cluster.cluster_dir()),
        Some(std::process::id() as i32)
    );
    stop(&cluster).await;
}

#[tokio::test]
async fn readyz_is_unavailable_while_the_database_is_down_and_ready_when_it_is_back() {
    let dir = reachable_tempdir();
    let cluster = EmbeddedPostgres::locate(dir.path()).unwrap();
    start(&cluster).await;
    database::ensure_database(&cluster, "echoloop")
        .await
        .unwrap();
    let pool = database::connect(cluster.connect_options("echoloop"), 4)
        .await
        .unwrap();
    database::migrate(&pool).await.unwrap();
    let web_dir = tempfile::tempdir().unwrap();
    let listener = Application::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let app = Application::new(
        listener,
        pool,
        HttpSettings::new(web_dir.path().to_path_buf(), 1024),
    );
    let readyz = format!("http://{}/readyz", app.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(2),
    ));
    let client = reqwest::Client::new();
    assert_eq!(client.get(&readyz).send().await.unwrap().status(), 200);

    stop(&cluster).await;
    let down = client.get(&readyz).send().await.unwrap();
    assert_eq!(down.status(), 503);
    let body: serde_json::Value = down.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable");

    start(&cluster).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = client.get(&readyz).send().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readyz still {status} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = tx.send(());
    stop(&cluster).await;
}
