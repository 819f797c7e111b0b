//! The embedded PostgreSQL default: with no `DATABASE_URL`, Echoloop creates
//! and runs a private cluster under its data directory with the system's
//! PostgreSQL binaries, reachable only through a Unix socket inside that
//! directory (no TCP port to clash with).
//!
//! Process control is synchronous (`initdb`/`pg_ctl` are short-lived
//! commands); async callers wrap it in `spawn_blocking`.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

/// The database role and the port that names the socket file.
pub const SUPERUSER: &str = "echoloop";
const SOCKET_PORT: u16 = 5432;
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
const START_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin; install the Debian package `postgresql` or set DATABASE_URL"
    )]
    BinariesMissing,
    #[error(
        "running as root needs the unprivileged system user `postgres` to own the embedded cluster; install the Debian package `postgresql` (it creates the user) or run as a normal user"
    )]
    NoUnprivilegedUser,
    #[error("cannot prepare data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "data directory {path} is not reachable by user `{user}`: every parent directory must be searchable by it (chmod o+x), or choose another --data-dir"
    )]
    Unreachable { path: PathBuf, user: String },
    #[error("{command} failed: {detail}")]
    Command { command: String, detail: String },
}

/// Who runs the cluster's processes.
#[derive(Debug, Clone)]
struct ClusterOwner {
    name: String,
    uid: u32,
    gid: u32,
    /// Whether commands must drop privileges (we are root).
    switch_user: bool,
}

#[derive(Debug, Clone)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    root: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    owner: ClusterOwner,
}

impl EmbeddedPostgres {
    /// Finds the binaries and decides where the cluster lives; touches nothing.
    pub fn locate(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::BinariesMissing)?;
        let owner = cluster_owner()?;
        let data_dir = absolute(data_dir)?;
        let root = data_dir.join("postgres");
        let mut socket_dir = root.join("socket");
        if socket_dir.as_os_str().len() + "/.s.PGSQL.5432.lock".len() > MAX_SOCKET_PATH {
            // A deep data directory would overflow the socket path limit;
            // fall back to a short private directory named after it.
            socket_dir = std::env::temp_dir().join(format!(
                "echoloop-pg-{:016x}",
                fnv1a(root.as_os_str().as_encoded_bytes())
            ));
        }
        Ok(EmbeddedPostgres {
            bin_dir,
            cluster_dir: root.join("cluster"),
            log_file: root.join("postgres.log"),
            socket_dir,
            root,
            owner,
        })
    }

    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The directory holding the cluster's Unix socket; a URL reaches it as
    /// `postgres://echoloop@localhost/DB?host=<socket_dir>`.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Options for connecting to `database` over the private socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(SOCKET_PORT)
            .username(SUPERUSER)
            .database(database)
    }

    /// Creates the cluster on first use, clears a stale lock file left by a
    /// crash, and starts the server unless it is already running. Returns
    /// whether this call started it: a process that found it running (a
    /// command beside a serving `echoloop serve`) must not stop it.
    pub fn start(&self) -> Result<bool, EmbeddedError> {
        self.prepare_directories()?;
        if !self.cluster_dir.join("PG_VERSION").exists() {
            self.init_cluster()?;
        }
        self.write_runtime_settings()?;
        if self.is_running() {
            return Ok(false);
        }
        self.remove_stale_pid_file();
        let mut last_error = None;
        for attempt in 0..START_ATTEMPTS {
            match self.pg_ctl_start() {
                Ok(()) => return Ok(true),
                Err(error) => {
                    // Backends of a killed postmaster can hold shared memory
                    // for a moment; they exit on their own, so try again.
                    last_error = Some(error);
                    std::thread::sleep(Duration::from_millis(400 * u64::from(attempt + 1)));
                    self.remove_stale_pid_file();
                }
            }
        }
        Err(last_error.unwrap_or(EmbeddedError::Command {
            command: "pg_ctl start".into(),
            detail: "did not start".into(),
        }))
    }

    /// Fast shutdown: open transactions are rolled back, data is flushed.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.is_running() {
            return Ok(());
        }
        let output = self.run(
            "pg_ctl",
            [
                OsStr::new("-D"),
                self.cluster_dir.as_os_str(),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-w"),
                OsStr::new("-t"),
                OsStr::new("60"),
                OsStr::new("stop"),
            ],
        )?;
        check("pg_ctl stop", &output)
    }

    /// Whether a postmaster is serving this cluster right now.
    pub fn is_running(&self) -> bool {
        match self.postmaster_pid() {
            Some(pid) => process_is_postgres(pid),
            None => false,
        }
    }

    fn postmaster_pid(&self) -> Option<i32> {
        let text = fs::read_to_string(self.cluster_dir.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// A crash leaves `postmaster.pid` behind; if its pid now belongs to
    /// another process (pids are reused quickly in containers), postgres
    /// would refuse to start, so remove it when no postmaster owns it.
    fn remove_stale_pid_file(&self) {
        let pid_file = self.cluster_dir.join("postmaster.pid");
        if pid_file.exists() && !self.is_running() {
            tracing::warn!(path = %pid_file.display(), "removing stale postmaster.pid left by a crash");
            let _ = fs::remove_file(pid_file);
        }
    }

    fn prepare_directories(&self) -> Result<(), EmbeddedError> {
        for dir in [&self.root, &self.socket_dir] {
            fs::create_dir_all(dir).map_err(|source| EmbeddedError::DataDir {
                path: dir.clone(),
                source,
            })?;
            self.make_private(dir)?;
        }
        if self.owner.switch_user {
            // Probe reachability as the owner: a parent directory that only
            // root may enter makes initdb fail with an obscure message.
            let probe = self.command("test")?.arg("-w").arg(&self.root).output();
            let reachable = matches!(probe, Ok(output) if output.status.success());
            if !reachable {
                return Err(EmbeddedError::Unreachable {
                    path: self.root.clone(),
                    user: self.owner.name.clone(),
                });
            }
        }
        Ok(())
    }

    fn make_private(&self, dir: &Path) -> Result<(), EmbeddedError> {
        let io = |source| EmbeddedError::DataDir {
            path: dir.to_path_buf(),
            source,
        };
        if self.owner.switch_user {
            let meta = fs::metadata(dir).map_err(io)?;
            if meta.uid() != self.owner.uid {
                nix::unistd::chown(
                    dir,
                    Some(nix::unistd::Uid::from_raw(self.owner.uid)),
                    Some(nix::unistd::Gid::from_raw(self.owner.gid)),
                )
                .map_err(|errno| io(std::io::Error::from(errno)))?;
            }
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)
    }

    fn init_cluster(&self) -> Result<(), EmbeddedError> {
        tracing::info!(path = %self.cluster_dir.display(), "creating the embedded PostgreSQL cluster");
        if self.cluster_dir.exists() {
            // A previous initdb died half way; it is safe to start over
            // because no PG_VERSION means no data was ever written.
            fs::remove_dir_all(&self.cluster_dir).map_err(|source| EmbeddedError::DataDir {
                path: self.cluster_dir.clone(),
                source,
            })?;
        }
        let output = self.run(
            "initdb",
            [
                OsStr::new("-D"),
                self.cluster_dir.as_os_str(),
                OsStr::new("-U"),
                OsStr::new(SUPERUSER),
                OsStr::new("-E"),
                OsStr::new("UTF8"),
                OsStr::new("--locale=C"),
                OsStr::new("--auth-local=trust"),
                OsStr::new("--auth-host=reject"),
            ],
        )?;
        check("initdb", &output)?;
        let conf = self.cluster_dir.join("postgresql.conf");
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(|source| EmbeddedError::DataDir {
                path: conf.clone(),
                source,
            })?;
        file.write_all(b"\n# Settings Echoloop rewrites at every start.\ninclude_if_exists = 'echoloop.conf'\n")
            .map_err(|source| EmbeddedError::DataDir { path: conf, source })?;
        Ok(())
    }

    /// Socket location can change (see `locate`), so it is written each start.
    fn write_runtime_settings(&self) -> Result<(), EmbeddedError> {
        let path = self.cluster_dir.join("echoloop.conf");
        let socket = self.socket_dir.to_string_lossy().replace('\'', "''");
        let text = format!(
            "listen_addresses = ''\n\
             port = {SOCKET_PORT}\n\
             unix_socket_directories = '{socket}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n\
             # A 20,000-segment list write makes about 12 MB of WAL; with the\n\
             # default 4 MB of WAL buffers the writing backend stalls on WAL\n\
             # writes mid-statement (docs/decisions/0013).\n\
             wal_buffers = 32MB\n\
             # The WAL writer flushes that WAL while the statement runs (every\n\
             # 10 ms instead of 200), so the commit has only the tail left to\n\
             # flush: 13-21 ms -> under 1 ms for such a list (decision 0013).\n\
             wal_writer_delay = 10ms\n"
        );
        fs::write(&path, text).map_err(|source| EmbeddedError::DataDir {
            path: path.clone(),
            source,
        })?;
        if self.owner.switch_user {
            nix::unistd::chown(
                &path,
                Some(nix::unistd::Uid::from_raw(self.owner.uid)),
                Some(nix::unistd::Gid::from_raw(self.owner.gid)),
            )
            .map_err(|errno| EmbeddedError::DataDir {
                path,
                source: errno.into(),
            })?;
        }
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), EmbeddedError> {
        let output = self.run(
            "pg_ctl",
            [
                OsStr::new("-D"),
                self.cluster_dir.as_os_str(),
                OsStr::new("-l"),
                self.log_file.as_os_str(),
                OsStr::new("-w"),
                OsStr::new("-t"),
                OsStr::new("60"),
                OsStr::new("start"),
            ],
        )?;
        check("pg_ctl start", &output).map_err(|error| match error {
            EmbeddedError::Command { command, detail } => EmbeddedError::Command {
                command,
                detail: format!("{detail} (server log: {})", self.log_file.display()),
            },
            other => other,
        })
    }

    fn command(&self, program: &str) -> Result<Command, EmbeddedError> {
        let path = if program == "test" {
            PathBuf::from("test")
        } else {
            self.bin_dir.join(program)
        };
        let mut command = Command::new(path);
        command
            .current_dir(&self.root)
            .env_remove("PGDATA")
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env_remove("PGUSER")
            .env("LC_ALL", "C.UTF-8");
        if self.owner.switch_user {
            // std drops root's supplementary groups when a uid is set.
            command.uid(self.owner.uid).gid(self.owner.gid);
        }
        Ok(command)
    }

    fn run<I, S>(&self, program: &str, args: I) -> Result<Output, EmbeddedError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.command(program)?;
        // Appending to the log rather than capturing: pg_ctl's postmaster
        // inherits stdout, and a pipe would keep our read open forever.
        command.args(args).stdin(std::process::Stdio::null());
        if program == "pg_ctl" {
            command.stdout(std::process::Stdio::null());
        }
        command.output().map_err(|error| EmbeddedError::Command {
            command: program.into(),
            detail: error.to_string(),
        })
    }
}

fn check(command: &str, output: &Output) -> Result<(), EmbeddedError> {
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let detail = stderr
        .lines()
        .rfind(|line| !line.trim().is_empty())
        .unwrap_or("no error output")
        .to_string();
    Err(EmbeddedError::Command {
        command: command.into(),
        detail: format!("{detail} ({})", output.status),
    })
}

fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    // Debian puts the real binaries in a versioned directory; prefer the
    // newest. PATH comes second because Debian's /usr/bin wrappers
    // (pg_wrapper) need an existing cluster configuration to work.
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_all(dir))
        .collect();
    versioned.sort();
    if let Some((_, dir)) = versioned.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_all(dir))
}

fn cluster_owner() -> Result<ClusterOwner, EmbeddedError> {
    let euid = nix::unistd::geteuid();
    if !euid.is_root() {
        let name = nix::unistd::User::from_uid(euid)
            .ok()
            .flatten()
            .map(|user| user.name)
            .unwrap_or_else(|| euid.to_string());
        return Ok(ClusterOwner {
            name,
            uid: euid.as_raw(),
            gid: nix::unistd::getegid().as_raw(),
            switch_user: false,
        });
    }
    let user = nix::unistd::User::from_name("postgres")
        .ok()
        .flatten()
        .ok_or(EmbeddedError::NoUnprivilegedUser)?;
    Ok(ClusterOwner {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        switch_user: true,
    })
}

fn process_is_postgres(pid: i32) -> bool {
    // A live pid is not enough: after a crash the number may belong to an
    // unrelated process.
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| {
            let program = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            Path::new(OsStr::from_bytes(program))
                .file_name()
                .is_some_and(|name| name == "postgres" || name == "postmaster")
        })
        .unwrap_or(false)
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(path).map_err(|source| EmbeddedError::DataDir {
        path: path.to_path_buf(),
        source,
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
