//! A PostgreSQL cluster and a RabbitMQ node of a test's own, for faults that must not touch the
//! machine's shared services (SYSTEM.md §7): the test may crash, stop and restart them at will.
//! Both run as their packages' system users, from the Debian packages `scripts/infra.sh`
//! installs, with their data in a temporary directory removed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

fn wait_port(port: u16, open: bool, what: &str, deadline: Duration) {
    let start = Instant::now();
    while port_open(port) != open {
        assert!(
            start.elapsed() < deadline,
            "{what}: port {port} not {} after {deadline:?}",
            if open { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A directory under the system temporary directory owned by `user`.
fn owned_dir(prefix: &str, user: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    run(Command::new("chown").arg(user).arg(&dir), "chown");
    dir
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The newest installed PostgreSQL's binaries (`/usr/lib/postgresql/<version>/bin`).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/infra.sh)")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let version = versions.last().expect("a PostgreSQL version");
    PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"))
}

/// A PostgreSQL cluster of the test's own on a free port, user `postgres` with trust auth and a
/// database `clientstor`.
pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let dir = owned_dir("clientstor-pg", "postgres");
        let bin = postgres_bin();
        let postgres = PrivatePostgres {
            port: free_port(),
            dir,
            bin,
        };
        run(
            postgres
                .as_postgres(&postgres.bin.join("initdb"))
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "-D",
                ])
                .arg(postgres.data()),
            "initdb",
        );
        postgres.pg_ctl_start();
        run(
            Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-qtA", "-p"])
                .arg(postgres.port.to_string())
                .args(["-c", "CREATE DATABASE clientstor"]),
            "create database",
        );
        postgres
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn as_postgres(&self, program: &Path) -> Command {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(program)
            .current_dir(&self.dir);
        command
    }

    fn pg_ctl(&self, args: &[&str]) {
        let mut command = self.as_postgres(&self.bin.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.data())
            .args(args)
            .stdout(Stdio::null());
        run(&mut command, &format!("pg_ctl {}", args.join(" ")));
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log");
        let log = log.to_string_lossy();
        self.pg_ctl(&["-w", "-t", "60", "-l", &log, "-o", &options, "start"]);
    }

    /// The URL of the `clientstor` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/clientstor", self.port)
    }

    /// Stops the server the way a crash would (`-m immediate`: no checkpoint, recovery on start).
    pub fn crash(&self) {
        self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
        wait_port(self.port, false, "PostgreSQL", Duration::from_secs(30));
    }

    pub fn start_again(&self) {
        self.pg_ctl_start();
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let mut command = self.as_postgres(&self.bin.join("pg_ctl"));
        let _ = command
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A RabbitMQ node of the test's own (`clientstor-<id>@localhost`) on a free AMQP port, with
/// no plugins, its own configuration and data, and the shared Erlang cookie so that
/// `rabbitmqctl -n` can reach it.
pub struct PrivateRabbit {
    pub port: u16,
    pub node: String,
    dir: PathBuf,
    server: Child,
}

const RABBIT_HOME: &str = "/var/lib/rabbitmq";

impl PrivateRabbit {
    pub fn start() -> PrivateRabbit {
        let dir = owned_dir("clientstor-rabbit", "rabbitmq");
        let port = free_port();
        let node = format!(
            "clientstor-{}@localhost",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let write = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).unwrap();
            run(
                Command::new("chown").arg("rabbitmq").arg(dir.join(name)),
                "chown",
            );
        };
        write(
            "rabbitmq.conf",
            format!("listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"),
        );
        write("rabbitmq-env.conf", format!("NODENAME={node}\n"));
        write("enabled_plugins", "[].\n".into());
        let log = std::fs::File::create(dir.join("server.out")).unwrap();
        let mut command = Self::as_rabbitmq(&dir, &node, "rabbitmq-server");
        command
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_DIST_PORT", free_port().to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let server = command.spawn().expect("start rabbitmq-server");
        wait_port(port, true, "RabbitMQ", Duration::from_secs(120));
        PrivateRabbit {
            port,
            node,
            dir,
            server,
        }
    }

    fn as_rabbitmq(dir: &Path, node: &str, program: &str) -> Command {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "rabbitmq", "--"])
            .arg(format!("/usr/lib/rabbitmq/bin/{program}"))
            .current_dir(dir)
            .env("HOME", RABBIT_HOME)
            .env("RABBITMQ_CONF_ENV_FILE", dir.join("rabbitmq-env.conf"))
            .env("RABBITMQ_NODENAME", node)
            .env("ERL_EPMD_ADDRESS", "127.0.0.1");
        command
    }

    fn ctl(&self, args: &[&str]) {
        let mut command = Self::as_rabbitmq(&self.dir, &self.node, "rabbitmqctl");
        command.args(["-q", "-n", &self.node]).args(args);
        run(&mut command, &format!("rabbitmqctl {}", args.join(" ")));
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// `rabbitmqctl stop_app`: the node stays up, the broker inside it stops (every connection
    /// is closed and no new one is accepted).
    pub fn stop_app(&self) {
        self.ctl(&["stop_app"]);
        wait_port(self.port, false, "RabbitMQ", Duration::from_secs(30));
    }

    pub fn start_app(&self) {
        self.ctl(&["start_app"]);
        wait_port(self.port, true, "RabbitMQ", Duration::from_secs(60));
    }
}

impl Drop for PrivateRabbit {
    fn drop(&mut self) {
        let mut command = Self::as_rabbitmq(&self.dir, &self.node, "rabbitmqctl");
        let _ = command
            .args(["-q", "-n", &self.node, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
