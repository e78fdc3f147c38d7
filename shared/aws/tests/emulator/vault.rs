use ichigen_aws::{SecretsManagerVault, put_secret};
use ichigen_core::ports::{Vault, VaultError};

use crate::{sdk, unique};

#[tokio::test]
async fn vault_reads_the_current_secret_and_reports_a_missing_one() {
    let sdk = sdk().await;
    let name = format!("ichigen/{}/rakuten/store-a", unique("vault"));
    let vault = SecretsManagerVault::from_sdk(&sdk);

    let first = serde_json::json!({ "serviceSecret": "SP-1", "licenseKey": "鍵🔑-1" });
    put_secret(&sdk, &name, &first).await.unwrap();
    let secret = vault.get_secret(&name).await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(secret.expose()).unwrap(),
        first
    );
    assert!(!format!("{secret:?}").contains("SP-1"));

    let second = serde_json::json!({ "serviceSecret": "SP-2", "licenseKey": "鍵🔑-2" });
    put_secret(&sdk, &name, &second).await.unwrap();
    let secret = vault.get_secret(&name).await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(secret.expose()).unwrap(),
        second
    );

    let missing = format!("{name}-missing");
    let err = vault.get_secret(&missing).await.unwrap_err();
    assert!(
        matches!(&err, VaultError::NotFound { secret_id } if *secret_id == missing),
        "{err}"
    );
}
