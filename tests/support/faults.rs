//! Ways to break DynamoDB on purpose: a moto server owned by one test, which it can freeze, and a TCP proxy in
//! front of it, which it can cut, or have fail only the requests of one kind. moto keeps its data in memory, so
//! none of these loses what was stored.

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// A TCP proxy on a loopback port. While cut, the port refuses connections and every open one is closed. It can
/// also fail only the requests that carry a marker (such as DynamoDB's `X-Amz-Target` operation name), as a
/// [`Fault`] says, and forward everything else.
pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    accepting: Option<JoinHandle<()>>,
    fault: Arc<Mutex<Option<(Fault, String)>>>,
    /// How many requests the fault has hit.
    hits: Arc<AtomicUsize>,
}

/// How the proxy fails a request that carries the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the server: the connection is closed instead.
    Refuse,
    /// The server receives the request and answers it, and the connection is closed before the client reads the
    /// answer: the request took effect, and the client cannot know.
    LoseAnswer,
    /// [`LoseAnswer`](Self::LoseAnswer) for the first request it hits; the proxy then forwards every request again,
    /// so the client's retry goes through.
    LoseFirstAnswer,
}

/// Whether `haystack` contains `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

impl Proxy {
    /// Starts forwarding a free port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let mut proxy = Self {
            addr: free_port(),
            upstream,
            accepting: None,
            fault: Arc::new(Mutex::new(None)),
            hits: Arc::new(AtomicUsize::new(0)),
        };
        proxy.restore().await;
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, fails every request whose bytes contain `marker` as `fault` says.
    pub fn fail(&self, fault: Fault, marker: &str) {
        *self.fault.lock().unwrap() = Some((fault, marker.to_owned()));
    }

    /// Forwards every request again.
    pub fn heal(&self) {
        *self.fault.lock().unwrap() = None;
    }

    /// How many requests a fault has hit so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
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
        let (fault, hits) = (Arc::clone(&self.fault), Arc::clone(&self.hits));
        self.accepting = Some(tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let (fault, hits) = (Arc::clone(&fault), Arc::clone(&hits));
                connections.spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        forward(client, server, fault, hits).await;
                    }
                });
            }
        }));
    }
}

/// Copies bytes both ways until either side closes, failing the requests the fault names. Closing the connection
/// mid-way drops both sockets.
async fn forward(
    client: TcpStream,
    server: TcpStream,
    fault: Arc<Mutex<Option<(Fault, String)>>>,
    hits: Arc<AtomicUsize>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Set once a request went through whose answer must be lost.
    let lose_answer = AtomicBool::new(false);
    let requests = async {
        let mut buffer = vec![0; 64 * 1024];
        // The end of the previous read, so that a marker split across two reads is still seen.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let read = client_read.read(&mut buffer).await?;
            if read == 0 {
                return server_write.shutdown().await;
            }
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(&buffer[..read]);
            let hit = {
                let mut fault = fault.lock().unwrap();
                let hit = fault
                    .as_ref()
                    .filter(|(_, marker)| contains(&window, marker.as_bytes()))
                    .map(|(fault, _)| *fault);
                if hit == Some(Fault::LoseFirstAnswer) {
                    *fault = None;
                }
                hit
            };
            match hit {
                Some(Fault::Refuse) => {
                    hits.fetch_add(1, Ordering::SeqCst);
                    return Err(std::io::Error::other("refused by the proxy"));
                }
                Some(Fault::LoseAnswer | Fault::LoseFirstAnswer) => {
                    hits.fetch_add(1, Ordering::SeqCst);
                    lose_answer.store(true, Ordering::SeqCst);
                }
                None => {}
            }
            server_write.write_all(&buffer[..read]).await?;
            tail = window[window.len().saturating_sub(256)..].to_vec();
        }
    };
    let answers = async {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = server_read.read(&mut buffer).await?;
            if read == 0 {
                return client_write.shutdown().await;
            }
            if lose_answer.load(Ordering::SeqCst) {
                // The server has answered, so it has done what was asked: the client never hears of it.
                return Err(std::io::Error::other("answer lost by the proxy"));
            }
            client_write.write_all(&buffer[..read]).await?;
        }
    };
    tokio::pin!(requests, answers);
    tokio::select! {
        sent = &mut requests => if sent.is_ok() { let _ = answers.await; },
        _ = &mut answers => {}
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
