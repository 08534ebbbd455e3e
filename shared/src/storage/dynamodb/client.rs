//! The SDK clients a process builds (DynamoDB's, and Secrets Manager's for the signing material), with limits that
//! make a slow or absent service fail fast.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

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

/// Builds the client. Without `endpoint`, it talks to AWS with the region and credentials Lambda puts in the
/// environment (or, with the `aws-credential-chain` feature, the whole standard chain: profiles, SSO and the rest).
/// With `endpoint` (a local server), a missing region defaults to us-east-1 and missing credentials to dummy ones,
/// so a laptop with no AWS set-up works.
pub(super) async fn build(endpoint: Option<&str>) -> anyhow::Result<Client> {
    let shared = sdk_config(endpoint, "DYNAMODB_ENDPOINT").await?;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    Ok(Client::from_conf(config.build()))
}

/// What every SDK client of a process shares: region, credentials, the HTTP client, and the timeouts and retries
/// above. `endpoint_variable` names the variable that points a client at a local server, for the error message.
pub async fn sdk_config(
    endpoint: Option<&str>,
    endpoint_variable: &str,
) -> anyhow::Result<SdkConfig> {
    let config = base_config(endpoint)
        .await?
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
        )
        .build();
    if config.region().is_none() {
        anyhow::bail!(
            "no AWS region is configured: set AWS_REGION (Lambda sets it), or {endpoint_variable} for a local server"
        );
    }
    Ok(config)
}

/// HTTPS through rustls on ring. The SDK's default client links aws-lc, a few megabytes of C that only adds
/// algorithms a DynamoDB connection never negotiates; ring is smaller and rustls' other supported provider. Every
/// SDK client in the workspace needs one: the SDK has no default HTTP client here.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Region and credentials from the environment only: in Lambda they are always there (AWS_REGION and the execution
/// role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Leaving out the standard chain (profiles,
/// SSO, STS web identity, container and instance metadata) keeps its code out of the Lambda binaries and its
/// probing out of their start.
#[cfg(not(feature = "aws-credential-chain"))]
async fn base_config(endpoint: Option<&str>) -> anyhow::Result<aws_types::sdk_config::Builder> {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;

    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .map(Region::new)
        .or_else(|| endpoint.map(|_| Region::from_static(LOCAL_REGION)));
    let builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client())
        .region(region);
    let in_environment = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    Ok(if endpoint.is_some() && !in_environment {
        builder.credentials_provider(SharedCredentialsProvider::new(local_dummy_credentials()))
    } else {
        builder.credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
    })
}

/// The standard AWS chain, for the admin command on a laptop: profiles, SSO, credential processes and the rest.
#[cfg(feature = "aws-credential-chain")]
async fn base_config(endpoint: Option<&str>) -> anyhow::Result<aws_types::sdk_config::Builder> {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    use aws_config::meta::credentials::CredentialsProviderChain;
    use aws_config::meta::region::RegionProviderChain;
    use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
    use aws_config::provider_config::ProviderConfig;

    let http_client = http_client();
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(http_client.clone());
    if endpoint.is_some() {
        // Environment and profile only: the rest of the standard chain (container and instance metadata) exists only
        // on AWS hosts, and on a laptop probing it costs seconds at every start before falling back.
        let providers = ProviderConfig::default().with_http_client(http_client);
        loader = loader
            .region(
                RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
                    .or_else(
                        ProfileFileRegionProvider::builder()
                            .configure(&providers)
                            .build(),
                    )
                    .or_else(Region::from_static(LOCAL_REGION)),
            )
            .credentials_provider(
                CredentialsProviderChain::first_try(
                    "Environment",
                    EnvironmentVariableCredentialsProvider::new(),
                )
                .or_else(
                    "Profile",
                    ProfileFileCredentialsProvider::builder()
                        .configure(&providers)
                        .build(),
                )
                .or_else("LocalEndpointDummy", local_dummy_credentials()),
            );
    }
    Ok(loader.load().await.into_builder())
}

/// Credentials for a local server that accepts any.
fn local_dummy_credentials() -> Credentials {
    Credentials::new("local", "local", None, None, "vimcar-local-endpoint")
}
