//! A minimal Lambda runtime API on loopback: the calls a bootstrap makes (next event, response, errors), each
//! stamped with the moment it arrived, with the harness deciding when each event is handed over.
//!
//! One thread per connection, plain `std::net`: nothing here shares a core with the bootstrap beyond reading and
//! writing a socket, and the timestamps are taken as soon as a request has been read.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

const PREFIX: &str = "/2018-06-01/runtime/";

/// One event for the bootstrap, with the headers Lambda sends along.
pub struct Invocation {
    pub request_id: String,
    /// Epoch milliseconds.
    pub deadline_ms: u128,
    pub function_arn: String,
    pub trace_id: String,
    pub event: Vec<u8>,
}

/// What a bootstrap asked or told the runtime API.
pub enum Message {
    /// It waits for its next event: send it through `reply`. Dropping `reply` closes that connection.
    Next {
        at: Instant,
        reply: Sender<Invocation>,
    },
    /// It answered an invocation.
    Response {
        at: Instant,
        request_id: String,
        payload: Vec<u8>,
    },
    /// It reported an error (for an invocation or its initialisation), or called something this API lacks.
    Error { what: String, payload: Vec<u8> },
}

/// The runtime API, listening on a free loopback port until the process ends.
pub struct RuntimeApi {
    address: SocketAddr,
    messages: Receiver<Message>,
}

impl RuntimeApi {
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let (sender, messages) = mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sender = sender.clone();
                // A connection's errors only mean its bootstrap went away (the harness kills each one).
                thread::spawn(move || serve(stream, &sender).ok());
            }
        });
        Ok(Self { address, messages })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    pub fn recv_timeout(&self, timeout: Duration) -> Result<Message, RecvTimeoutError> {
        self.messages.recv_timeout(timeout)
    }

    /// Drops whatever a previous bootstrap left behind.
    pub fn discard_pending(&self) {
        while self.messages.try_recv().is_ok() {}
    }
}

/// A request as far as this API cares.
#[derive(Debug, PartialEq)]
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn serve(stream: TcpStream, messages: &Sender<Message>) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader)? {
        let at = Instant::now();
        let route = request.path.strip_prefix(PREFIX).unwrap_or("");
        let invocation_id = route
            .strip_prefix("invocation/")
            .and_then(|rest| rest.rsplit_once('/'));
        match (request.method.as_str(), route, invocation_id) {
            ("GET", "invocation/next", _) => {
                let (reply, invocation) = mpsc::channel();
                if messages.send(Message::Next { at, reply }).is_err() {
                    return Ok(());
                }
                let Ok(invocation) = invocation.recv() else {
                    return Ok(());
                };
                let deadline = invocation.deadline_ms.to_string();
                let headers = [
                    (
                        "Lambda-Runtime-Aws-Request-Id",
                        invocation.request_id.as_str(),
                    ),
                    ("Lambda-Runtime-Deadline-Ms", deadline.as_str()),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        invocation.function_arn.as_str(),
                    ),
                    ("Lambda-Runtime-Trace-Id", invocation.trace_id.as_str()),
                ];
                write_response(&mut writer, "200 OK", &headers, &invocation.event)?;
            }
            ("POST", _, Some((request_id, "response"))) => {
                let request_id = request_id.to_owned();
                let response = Message::Response {
                    at,
                    request_id,
                    payload: request.body,
                };
                if messages.send(response).is_err() {
                    return Ok(());
                }
                write_response(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)?;
            }
            _ => {
                let known = request.method == "POST" && route.ends_with("/error");
                let error = Message::Error {
                    what: format!("{} {}", request.method, request.path),
                    payload: request.body,
                };
                if messages.send(error).is_err() {
                    return Ok(());
                }
                let (status, body): (_, &[u8]) = if known {
                    ("202 Accepted", br#"{"status":"OK"}"#)
                } else {
                    ("404 Not Found", br#"{"errorMessage":"not emulated"}"#)
                };
                write_response(&mut writer, status, &[], body)?;
            }
        }
    }
    Ok(())
}

/// Reads one HTTP/1.1 request; `None` when the client closed the connection between requests.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(invalid(format!("malformed request line {line:?}")));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut length = 0;
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("the connection closed inside the headers".into()));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(invalid(format!("malformed header {header:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .parse()
                .map_err(|_| invalid(format!("bad content-length {value:?}")))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Some(Request { method, path, body }))
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = line.trim_end().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, if any, up to the empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// Writes a whole response in one write, so that `TCP_NODELAY` sends it as one segment.
fn write_response(
    writer: &mut impl Write,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    writer.write_all(&message)?;
    writer.flush()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_request_with_a_content_length_is_read_whole() {
        let raw = b"POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbodyGET";
        let request = read_request(&mut &raw[..]).unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/2018-06-01/runtime/invocation/abc/response");
        assert_eq!(request.body, b"body");
    }

    #[test]
    fn a_chunked_request_body_is_reassembled() {
        let raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n";
        let request = read_request(&mut &raw[..]).unwrap().unwrap();
        assert_eq!(request.body, b"abcde");
    }

    #[test]
    fn a_closed_connection_is_no_request() {
        assert_eq!(read_request(&mut &b""[..]).unwrap(), None);
    }

    #[test]
    fn a_bootstrap_gets_its_event_and_its_answer_is_reported() {
        let api = RuntimeApi::start().unwrap();
        let mut stream = TcpStream::connect(api.address()).unwrap();
        stream
            .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let Message::Next { reply, .. } = api.recv_timeout(Duration::from_secs(5)).unwrap() else {
            panic!("expected a request for the next event");
        };
        reply
            .send(Invocation {
                request_id: "id-1".into(),
                deadline_ms: 1,
                function_arn: "arn".into(),
                trace_id: "trace".into(),
                event: b"{}".to_vec(),
            })
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            reader.read_line(&mut head).unwrap();
        }
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(
            head.contains("Lambda-Runtime-Aws-Request-Id: id-1"),
            "{head}"
        );
        let mut body = [0; 2];
        reader.read_exact(&mut body).unwrap();
        assert_eq!(&body, b"{}");
        stream
            .write_all(b"POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        let Message::Response {
            request_id,
            payload,
            ..
        } = api.recv_timeout(Duration::from_secs(5)).unwrap()
        else {
            panic!("expected a response");
        };
        assert_eq!(
            (request_id.as_str(), payload.as_slice()),
            ("id-1", &b"ok"[..])
        );
    }
}
