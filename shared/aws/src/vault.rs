//! Mall credentials from Secrets Manager. The value is handed back wrapped in
//! [`SecretValue`] (whose `Debug` is redacted) and never logged here.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use ichigen_core::ports::{SecretValue, Vault, VaultError};

#[derive(Clone, Debug)]
pub struct SecretsManagerVault {
    client: Client,
}

impl SecretsManagerVault {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn from_sdk(sdk: &SdkConfig) -> Self {
        Self::new(Client::new(sdk))
    }
}

#[async_trait]
impl Vault for SecretsManagerVault {
    /// The current (`AWSCURRENT`) version's text.
    async fn get_secret(&self, secret_id: &str) -> Result<SecretValue, VaultError> {
        let out = match self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(VaultError::NotFound {
                    secret_id: secret_id.to_owned(),
                });
            }
            Err(e) => {
                return Err(VaultError::Unavailable {
                    secret_id: secret_id.to_owned(),
                    detail: DisplayErrorContext(&e).to_string(),
                });
            }
        };
        if let Some(text) = out.secret_string {
            return Ok(SecretValue::new(text));
        }
        let not_text = |detail: &str| VaultError::Unavailable {
            secret_id: secret_id.to_owned(),
            detail: detail.to_owned(),
        };
        let bytes = out
            .secret_binary
            .ok_or_else(|| not_text("secret has no value"))?;
        String::from_utf8(bytes.into_inner())
            .map(SecretValue::new)
            .map_err(|_| not_text("binary secret is not UTF-8 text"))
    }
}
