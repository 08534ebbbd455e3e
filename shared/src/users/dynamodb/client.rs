//! The one SDK client a process builds, with limits that make a slow or absent DynamoDB fail fast.

use std::time::Duration;

use anyhow::bail;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;

/// A TCP connection that takes longer than this is as good as refused.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt of a request; single-item reads and writes take milliseconds when DynamoDB is healthy.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// A request with all its retries: well under a Lambda's 10 s, so the function can still answer 503 itself.
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts per request, the first included. Throttling and 5xx answers are retried by the SDK.
const MAX_ATTEMPTS: u32 = 3;
/// The standard retry mode's default backoff starts at 1 s, which would eat the whole budget.
const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Region for a local server when none is configured: local servers accept any.
const LOCAL_REGION: &str = "us-east-1";

/// Builds the client. Without `endpoint`, region and credentials come from the standard AWS chain (in Lambda: the
/// environment). With `endpoint` (a local server), a missing region defaults to us-east-1 and missing credentials
/// to dummy ones, so a laptop with no AWS set-up works.
pub(super) async fn build(endpoint: Option<&str>) -> anyhow::Result<Client> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF)
                .with_max_backoff(MAX_BACKOFF),
        );
    if let Some(endpoint) = endpoint {
        loader = loader
            .endpoint_url(endpoint)
            .region(
                RegionProviderChain::default_provider().or_else(Region::from_static(LOCAL_REGION)),
            )
            .credentials_provider(local_credentials());
    }
    let config = loader.load().await;
    if config.region().is_none() {
        bail!(
            "no AWS region is configured: set AWS_REGION (Lambda sets it), or DYNAMODB_ENDPOINT for a local server"
        );
    }
    Ok(Client::new(&config))
}

/// Credentials for a local endpoint: the environment's or the profile's if there are any, else dummy ones.
///
/// The rest of the standard chain (container and instance metadata) only exists on AWS hosts; on a laptop,
/// probing it costs seconds at every start before falling back.
fn local_credentials() -> CredentialsProviderChain {
    CredentialsProviderChain::first_try(
        "Environment",
        EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else("Profile", ProfileFileCredentialsProvider::builder().build())
    .or_else(
        "LocalEndpointDummy",
        Credentials::new("local", "local", None, None, "vimcar-local-endpoint"),
    )
}
