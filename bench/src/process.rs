//! A `scrape-server` process under measurement: its start-up, its memory and
//! CPU from /proc, and a clean stop.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use scrape_client::Client;
use tokio::io::AsyncBufReadExt;

/// A process's memory, in MB, from /proc: what is resident, of which
/// anonymous (its heap) and file-backed (code and mapped files), and the
/// highest resident size so far.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub resident: f64,
    pub anonymous: f64,
    pub file: f64,
    pub peak: f64,
}

/// A running server.
pub struct Server {
    child: tokio::process::Child,
    pub address: String,
    pub client: Client,
    /// From spawn to the first SERVING health answer.
    pub startup: Duration,
    /// The rest of its standard output, kept open so that it never writes
    /// into a closed pipe.
    _stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Server {
    /// Starts the server on a port of its choosing (`--listen` on port 0)
    /// and waits until it serves on the address it reports.
    pub async fn spawn(bin: &Path, args: &[String], log: &Path) -> anyhow::Result<Server> {
        let started = Instant::now();
        let mut child = tokio::process::Command::new(bin)
            .arg("--listen=127.0.0.1:0")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut stdout = child.stdout.take().map(|out| tokio::io::BufReader::new(out).lines()).context("stdout")?;
        let limit = Duration::from_secs(120);
        let line = tokio::time::timeout(limit, stdout.next_line())
            .await
            .with_context(|| format!("the server did not start; see {}", log.display()))??
            .with_context(|| format!("the server exited; see {}", log.display()))?;
        let bound = line.strip_prefix("listening on ").with_context(|| format!("not an address line: {line:?}"))?;
        let address = format!("http://{bound}");
        let deadline = started + limit;
        let client = loop {
            if let Ok(client) = Client::connect(&address).await
                && client.health().await.unwrap_or(false)
            {
                break client;
            }
            anyhow::ensure!(Instant::now() < deadline, "the server did not start; see {}", log.display());
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        Ok(Server { child, address, client, startup: started.elapsed(), _stdout: stdout })
    }

    /// Starts a server on a port picked here (for binaries older than the
    /// `listening on` line), and waits until it answers SERVING.
    pub async fn spawn_on_free_port(bin: &Path, args: &[String], log: &Path) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let started = Instant::now();
        let mut child = tokio::process::Command::new(bin)
            .arg(format!("--listen=127.0.0.1:{port}"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().map(|out| tokio::io::BufReader::new(out).lines()).context("stdout")?;
        let address = format!("http://127.0.0.1:{port}");
        let deadline = started + Duration::from_secs(120);
        let client = loop {
            if let Ok(client) = Client::connect(&address).await
                && client.health().await.unwrap_or(false)
            {
                break client;
            }
            anyhow::ensure!(Instant::now() < deadline, "the server did not start; see {}", log.display());
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        Ok(Server { child, address, client, startup: started.elapsed(), _stdout: stdout })
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server has exited")
    }

    /// Resident memory now and at its peak, in MB.
    pub fn memory_mb(&self) -> anyhow::Result<(f64, f64)> {
        let memory = self.memory()?;
        Ok((memory.resident, memory.peak))
    }

    /// Resident memory now, split into heap and file pages, and its peak.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?))?;
        let mb = |field: &str| -> anyhow::Result<f64> {
            let line = status.lines().find(|l| l.starts_with(field)).with_context(|| field.to_owned())?;
            Ok(line.split_whitespace().nth(1).context("value")?.parse::<f64>()? / 1024.0)
        };
        Ok(Memory { resident: mb("VmRSS:")?, anonymous: mb("RssAnon:")?, file: mb("RssFile:")?, peak: mb("VmHWM:")? })
    }

    /// CPU seconds used so far (user + system).
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()?))?;
        // Fields after the command name, which is in parentheses.
        let rest = stat.rsplit_once(')').context("stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        Ok(ticks / 100.0)
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.pid()?.to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status()?;
        tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await??;
        Ok(())
    }
}
