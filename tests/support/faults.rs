//! Ways to break DynamoDB on purpose: a moto server owned by one test, which it can freeze, and a TCP proxy in
//! front of it, which it can cut. moto keeps its data in memory, so neither loses what was stored.

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How long moto may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A moto server on a free loopback port, killed on drop whatever the test's outcome.
pub struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    /// Starts `$MOTO_SERVER`, which `infra/with-moto` exports. Panics when it is not set.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts it serving HTTPS with `cert` and `key` (PEM files): its URL is then `https://localhost:PORT`.
    pub fn start_tls(cert: &Path, key: &Path) -> Self {
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        Self::start_with(&["-c", cert, "-k", key])
    }

    fn start_with(extra_args: &[&str]) -> Self {
        let binary = std::env::var("MOTO_SERVER").unwrap_or_else(|_| {
            panic!("MOTO_SERVER is not set: run the tests with `make test`, which starts moto (or `infra/with-moto`)")
        });
        let addr = free_port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
            .args(extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let mut moto = Self { child, addr };
        let deadline = Instant::now() + START_TIMEOUT;
        while StdStream::connect(addr).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("{binary} exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{binary} did not start in {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Freezes the server (SIGSTOP): connections still open, but nothing answers, as with a hung service.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (SIGCONT). Requests sent meanwhile are then served.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} failed");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy on a loopback port. While cut, the port refuses connections and every open one is closed.
pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    accepting: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts forwarding a free port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let mut proxy = Self {
            addr: free_port(),
            upstream,
            accepting: None,
        };
        proxy.restore().await;
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Refuses new connections and drops the open ones.
    pub fn cut(&mut self) {
        if let Some(accepting) = self.accepting.take() {
            // Aborting the accept loop drops the listener and the JoinSet of connections with it.
            accepting.abort();
        }
    }

    /// Forwards again, on the same port.
    pub async fn restore(&mut self) {
        self.cut();
        // The aborted loop releases the port when its task is dropped, which may take a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() > deadline => {
                    panic!("cannot listen on {} again: {e}", self.addr)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let upstream = self.upstream;
        self.accepting = Some(tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> SocketAddr {
    StdListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}
