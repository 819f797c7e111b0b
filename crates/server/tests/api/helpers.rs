//! Shared test set-up: one private PostgreSQL cluster for the whole run
//! (started with the same embedded mechanism as `echoloop serve`), a fresh
//! database per test cloned from a migrated template, and the server
//! spawned on a random port and driven over HTTP.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use echoloop_server::database::{self, EmbeddedPostgres, MIGRATOR};
use echoloop_server::http::HttpSettings;
use echoloop_server::startup::Application;
use sqlx::{ConnectOptions, PgPool};
use tokio::sync::oneshot;

/// The cluster shared by every test process of this run (and by parallel
/// runs: databases are named uniquely, templates by migration checksum).
pub fn cluster() -> &'static EmbeddedPostgres {
    static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let root = std::env::temp_dir().join("echoloop-test-pg");
        std::fs::create_dir_all(&root).expect("create the test cluster directory");
        let lock_file = std::fs::File::create(std::env::temp_dir().join("echoloop-test-pg.lock"))
            .expect("create the test cluster lock file");
        // Several test binaries start at once; one of them initialises.
        fs4::fs_std::FileExt::lock_exclusive(&lock_file).expect("lock the test cluster");
        let cluster = EmbeddedPostgres::locate(&root).expect("locate PostgreSQL binaries");
        cluster.start().expect("start the test cluster");
        fs4::fs_std::FileExt::unlock(&lock_file).expect("unlock the test cluster");
        cluster
    })
}

/// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let cluster = cluster();
        let template = ensure_template(cluster).await;
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = cluster
            .connect_options("postgres")
            .connect()
            .await
            .expect("connect to the maintenance database");
        let statement = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        for attempt in 0.. {
            match sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut admin)
                .await
            {
                Ok(_) => break,
                // "source database is being accessed by other users": a
                // concurrent clone; it finishes in milliseconds.
                Err(sqlx::Error::Database(error))
                    if error.code().as_deref() == Some("55006") && attempt < 50 =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("create test database: {error}"),
            }
        }
        let pool = database::connect(cluster.connect_options(&name), 10)
            .await
            .expect("connect to the test database");
        TestDb { pool, name }
    }

    /// An empty database with no migrations applied.
    pub async fn empty() -> TestDb {
        let cluster = cluster();
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        database::ensure_database(cluster, &name)
            .await
            .expect("create empty database");
        let pool = database::connect(cluster.connect_options(&name), 5)
            .await
            .expect("connect to the empty database");
        TestDb { pool, name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let options = cluster().connect_options("postgres");
        // Drop runs outside any runtime guarantee; use a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = options.connect().await {
                    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// The migrated template for this set of migrations, created once.
async fn ensure_template(cluster: &EmbeddedPostgres) -> String {
    let checksum = MIGRATOR
        .iter()
        .flat_map(|migration| migration.checksum.iter().copied())
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let template = format!("template_{checksum:016x}");
    let mut admin = cluster
        .connect_options("postgres")
        .connect()
        .await
        .expect("connect to the maintenance database");
    sqlx::query("SELECT pg_advisory_lock(7243)")
        .execute(&mut admin)
        .await
        .expect("take the template lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("look up the template");
    if !exists {
        let building = format!("{template}_building");
        let drop = format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)");
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut admin)
            .await
            .expect("drop a half-built template");
        database::ensure_database(cluster, &building)
            .await
            .expect("create template");
        let pool = database::connect(cluster.connect_options(&building), 2)
            .await
            .expect("connect to template");
        database::migrate(&pool).await.expect("migrate template");
        pool.close().await;
        // Renamed only when complete, so a crash never leaves a bad template.
        let rename = format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\"");
        sqlx::query(sqlx::AssertSqlSafe(rename))
            .execute(&mut admin)
            .await
            .expect("publish template");
    }
    sqlx::query("SELECT pg_advisory_unlock(7243)")
        .execute(&mut admin)
        .await
        .expect("release the template lock");
    template
}

/// A running server on a random port with a fresh database.
pub struct TestApp {
    pub address: String,
    /// `http://…` of the metrics listener, when the test asked for one.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub db: TestDb,
    /// Kept alive for the server's lifetime: the built web client stand-in.
    pub _web_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

pub const TEST_INDEX_HTML: &str = "<!doctype html><title>Echoloop test shell</title>";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut HttpSettings)) -> TestApp {
    spawn(configure, false).await
}

/// An app that also serves Prometheus metrics on a port of its own.
pub async fn spawn_app_with_metrics() -> TestApp {
    spawn(|_| {}, true).await
}

async fn spawn(configure: impl FnOnce(&mut HttpSettings), metrics: bool) -> TestApp {
    let db = TestDb::new().await;
    let web_dir = tempfile::tempdir().expect("create web dir");
    std::fs::write(web_dir.path().join("index.html"), TEST_INDEX_HTML).expect("write index.html");
    std::fs::create_dir_all(web_dir.path().join("assets")).expect("create assets dir");
    std::fs::write(
        web_dir.path().join("assets/app-1234.js"),
        "console.log('echoloop')",
    )
    .expect("write asset");
    let mut settings = HttpSettings::new(PathBuf::from(web_dir.path()), 64 * 1024);
    settings.jobs.poll_interval = Duration::from_millis(50);
    // Scoring runs the speech models: only the tests about it turn it on.
    settings.scoring = false;
    configure(&mut settings);
    let listener = Application::bind("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let mut app = Application::new(listener, db.pool.clone(), settings);
    if metrics {
        let listener = Application::bind("127.0.0.1:0".parse().expect("address"))
            .await
            .expect("bind metrics");
        app = app.with_metrics(listener);
    }
    let address = format!("http://{}", app.local_addr().expect("local address"));
    let metrics_address = app
        .metrics_addr()
        .map(|addr| format!("http://{}", addr.expect("metrics address")));
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        db,
        _web_dir: web_dir,
        shutdown: Some(tx),
    }
}

/// Another server process on the same database, as a load balancer would
/// see a second instance.
pub struct Instance {
    pub address: String,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A registered user as a test sees it.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: uuid::Uuid,
    #[allow(dead_code)]
    pub email: String,
    pub token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A second server on this app's database.
    pub async fn second_instance(&self, configure: impl FnOnce(&mut HttpSettings)) -> Instance {
        let mut settings = HttpSettings::new(PathBuf::from(self._web_dir.path()), 64 * 1024);
        settings.jobs.poll_interval = Duration::from_millis(50);
        settings.scoring = false;
        configure(&mut settings);
        let listener = Application::bind("127.0.0.1:0".parse().expect("address"))
            .await
            .expect("bind");
        let app = Application::new(listener, self.db.pool.clone(), settings);
        let address = format!("http://{}", app.local_addr().expect("local address"));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(5),
        ));
        Instance {
            address,
            shutdown: Some(tx),
        }
    }

    /// `GET` an API path as `token`'s user; asserts `200` and returns the
    /// JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let response = self
            .authed(reqwest::Method::GET, path, token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    /// `POST` a JSON body to an API path (`/api/v1` is prepended).
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/api/v1{path}")))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("send request")
    }

    /// A request with a bearer token to an API path.
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(token)
    }

    /// Sends a bodiless request with a bearer token to an API path.
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::Response {
        self.authed(method, path, token)
            .send()
            .await
            .expect("send request")
    }

    /// Registers `email` with [`PASSWORD`] and native language `zh-CN`;
    /// returns the new user and a session token.
    pub async fn register(&self, email: &str) -> TestUser {
        let response = self
            .post_json(
                "/accounts",
                &serde_json::json!({ "email": email, "password": PASSWORD, "native_language": "zh-CN" }),
                None,
            )
            .await;
        assert_eq!(response.status(), 201, "registering {email}");
        let body: serde_json::Value = response.json().await.expect("register body");
        TestUser {
            id: body["user"]["id"]
                .as_str()
                .expect("user id")
                .parse()
                .expect("uuid"),
            email: email.to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// A fresh user with a unique email; the usual start of a private-endpoint test.
    pub async fn register_user(&self) -> TestUser {
        self.register(&format!(
            "learner-{}@example.com",
            uuid::Uuid::new_v4().simple()
        ))
        .await
    }

    /// A login attempt (`POST /sessions`), whatever its answer.
    pub async fn try_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/sessions",
            &serde_json::json!({ "email": email, "password": password }),
            None,
        )
        .await
    }

    /// Logs `email` in with [`PASSWORD`]; returns the token.
    pub async fn login(&self, email: &str) -> String {
        let response = self.try_login(email, PASSWORD).await;
        assert_eq!(response.status(), 201, "logging in {email}");
        let body: serde_json::Value = response.json().await.expect("login body");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .expect("count query")
    }
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(response.status(), status, "status");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: serde_json::Value = response.json().await.expect("problem body");
    assert_eq!(body["code"], code, "{body}");
    body
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A scratch directory for this test process's generated media,
/// `<tmp>/<prefix>-<pid>`. Nothing removes a process's own directory when
/// it ends (statics are not dropped), so the ones of processes that are
/// gone are removed here: runs do not pile them up in /tmp.
pub fn process_scratch_dir(prefix: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    let own = std::process::id();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|name| name.strip_prefix(prefix))
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != own && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = tmp.join(format!("{prefix}-{own}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
