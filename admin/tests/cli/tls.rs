//! The HTTPS client every DynamoDB connection goes through (rustls on ring, built in
//! shared/src/storage/dynamodb/client.rs) in a real TLS handshake. The other suites talk plain HTTP to moto, which
//! never exercises it; here moto serves HTTPS with a certificate made for the test, trusted through SSL_CERT_FILE as
//! an operator's CA bundle would be.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vimcar_tests::faults::Moto;
use vimcar_tests::server::workspace_root;

const PASSWORD: &str = "correct horse battery staple";

/// Writes a self-signed certificate for `localhost` and its key into `dir`, with the `cryptography` package that
/// moto itself depends on.
fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let python = workspace_root().join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run the tests with `make test`, which installs moto",
        python.display()
    );
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    let script = r#"
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name).issuer_name(name).public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .sign(key, hashes.SHA256())
)
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(sys.argv[2], "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
"#;
    let status = Command::new(&python)
        .args(["-c", script])
        .arg(&cert)
        .arg(&key)
        .status()
        .expect("python runs");
    assert!(status.success(), "making a test certificate failed");
    (cert, key)
}

/// Runs `vimcar-admin` against `endpoint`, trusting the certificates in `ca_bundle` only.
fn admin(endpoint: &str, table: &str, ca_bundle: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vimcar-admin"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USERS_BACKEND", "dynamodb")
        .env("USERS_TABLE", table)
        .env("DYNAMODB_ENDPOINT", endpoint)
        .env("SSL_CERT_FILE", ca_bundle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vimcar-admin runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_dynamodb_client_speaks_tls_and_refuses_an_untrusted_certificate() {
    let dir = std::env::temp_dir().join(format!("vimcar-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = self_signed(&dir, "server");
    let (stranger, _) = self_signed(&dir, "stranger");
    let moto = Moto::start_tls(&cert, &key);
    let endpoint = format!("https://localhost:{}", moto.addr().port());
    let table = format!("vimcar-tls-{}", std::process::id());

    let upgrade = admin(&endpoint, &table, &cert, &["db", "upgrade"], "");
    assert!(upgrade.status.success(), "{}", text(&upgrade.stderr));
    let create = admin(
        &endpoint,
        &table,
        &cert,
        &[
            "users",
            "create",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--password-stdin",
        ],
        PASSWORD,
    );
    assert!(create.status.success(), "{}", text(&create.stderr));
    let list = admin(&endpoint, &table, &cert, &["users", "list"], "");
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(
        text(&list.stdout).contains("alice"),
        "{}",
        text(&list.stdout)
    );

    let untrusted = admin(&endpoint, &table, &stranger, &["users", "list"], "");
    assert!(
        !untrusted.status.success(),
        "a certificate nobody trusts was accepted"
    );
    let error = text(&untrusted.stderr).to_lowercase();
    assert!(
        error.contains("certificate"),
        "the error does not name the certificate: {error}"
    );

    let _ = std::fs::remove_dir_all(&dir);
}
