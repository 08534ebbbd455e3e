//! Secrets Manager: where a deployment keeps its signing material, read once at start-up (and the key sets again
//! every few minutes), never from the Lambda configuration.

use anyhow::{Context, anyhow};
use aws_sdk_secretsmanager::Client;
use secrecy::SecretString;

use crate::storage::dynamodb::sdk_config;

/// A Secrets Manager client with the same limits as the DynamoDB one.
#[derive(Clone, Debug)]
pub struct Secrets {
    client: Client,
}

impl Secrets {
    /// Builds the client; `endpoint` points at a local server (moto), `None` is AWS in the configured region.
    pub async fn connect(endpoint: Option<&str>) -> anyhow::Result<Self> {
        let shared = sdk_config(endpoint, "SECRETS_MANAGER_ENDPOINT").await?;
        let mut config = aws_sdk_secretsmanager::config::Builder::from(&shared);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        Ok(Self {
            client: Client::from_conf(config.build()),
        })
    }

    /// The current value of the secret `id` (a name or an ARN), which must be a string.
    pub async fn read(&self, id: &str) -> anyhow::Result<SecretString> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
            .with_context(|| format!("reading secret {id} from Secrets Manager"))?;
        answer
            .secret_string
            .map(SecretString::from)
            .with_context(|| format!("secret {id} holds no string"))
    }

    /// Whether the secret `id` exists.
    pub async fn exists(&self, id: &str) -> anyhow::Result<bool> {
        match self.client.describe_secret().secret_id(id).send().await {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(
                error
            )))
            .with_context(|| format!("looking up secret {id} in Secrets Manager")),
        }
    }

    /// Creates the secret `id` with `value` (the admin command, on a local server; a deployment's template creates
    /// its secrets).
    pub async fn create(&self, id: &str, value: &str) -> anyhow::Result<()> {
        self.client
            .create_secret()
            .name(id)
            .secret_string(value)
            .send()
            .await
            .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
            .with_context(|| format!("creating secret {id} in Secrets Manager"))?;
        Ok(())
    }

    /// Stores a new value of the secret `id` (the admin command's key rotation).
    pub async fn write(&self, id: &str, value: &str) -> anyhow::Result<()> {
        self.client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value)
            .send()
            .await
            .map_err(|e| anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
            .with_context(|| format!("writing secret {id} to Secrets Manager"))?;
        Ok(())
    }
}
