//! The shared import path (`ichigen_core::import::run_import`) with the Yahoo client against
//! the sandbox, over in-memory order and checkpoint stores (the DynamoDB adapters are tested
//! in `tests/integration`): import and import again, and the daily quota reached mid-run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use ichigen_core::import::{ImportCommand, ImportContext, ImportRequest, run_import};
use ichigen_core::ports::{
    Checkpoint, CheckpointStore, OrderStore, SecretValue, StoreError, StoredOrderSummary,
    SystemClock,
};
use ichigen_core::{ImportSettings, Order, OrderId, StoreConfig, StoreRef};
use ichigen_malls::{ClientSettings, MallEndpoints, YahooEndpoints, connect_yahoo};
use ichigen_sandbox::control::{
    YahooGenerateOptions, YahooLimits, YahooOrderKind, YahooRegisterStoreRequest,
};
use ichigen_sandbox::{Sandbox, SandboxConfig};
use jiff::SignedDuration;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{RsaPrivateKey, RsaPublicKey};

const SELLER: &str = "snbx-import";

#[derive(Default)]
struct Orders(Mutex<HashMap<OrderId, Order>>);

#[async_trait]
impl OrderStore for Orders {
    async fn create_order(&self, order: &Order) -> Result<(), StoreError> {
        let mut orders = self.0.lock().unwrap();
        if orders.contains_key(&order.id) {
            return Err(StoreError::AlreadyExists(order.id.clone()));
        }
        orders.insert(order.id.clone(), order.clone());
        Ok(())
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<(), StoreError> {
        let mut orders = self.0.lock().unwrap();
        match orders.get(&order.id) {
            Some(stored) if stored.version == expected_version => {
                orders.insert(order.id.clone(), order.clone());
                Ok(())
            }
            _ => Err(StoreError::Conflict {
                what: order.id.to_string(),
                expected: expected_version.to_string(),
            }),
        }
    }

    async fn find_orders(
        &self,
        ids: &[OrderId],
    ) -> Result<HashMap<OrderId, StoredOrderSummary>, StoreError> {
        let orders = self.0.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|id| {
                orders.get(id).map(|o| {
                    (
                        id.clone(),
                        StoredOrderSummary {
                            version: o.version,
                            acknowledgement_outstanding: o.mall_sync.is_outstanding(),
                        },
                    )
                })
            })
            .collect())
    }
}

#[derive(Default)]
struct Checkpoints(Mutex<Option<Checkpoint>>);

#[async_trait]
impl CheckpointStore for Checkpoints {
    async fn load_checkpoint(&self, _: &StoreRef) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }

    async fn save_checkpoint(
        &self,
        _: &StoreRef,
        previous: Option<&Checkpoint>,
        next: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut stored = self.0.lock().unwrap();
        if stored.as_ref() != previous {
            return Err(StoreError::Conflict {
                what: "checkpoint".into(),
                expected: format!("{previous:?}"),
            });
        }
        *stored = Some(next.clone());
        Ok(())
    }
}

struct Setup {
    _sandbox: Sandbox,
    control: ichigen_sandbox::ControlClient,
    mall: ichigen_malls::YahooMall,
    config: StoreConfig,
}

async fn setup() -> Setup {
    let private = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 23 })
        .await
        .unwrap();
    let control = sandbox.control();
    control
        .yahoo_register_store(&YahooRegisterStoreRequest {
            seller_id: SELLER.into(),
            client_id: "dj00import".into(),
            client_secret: "cs-import".into(),
            refresh_token: "rt-import".into(),
            private_key_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            key_version: 1,
        })
        .await
        .unwrap();
    control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let store = StoreRef::new(ichigen_core::MallId::Yahoo, "yahoo-import");
    let secret = serde_json::json!({
        "sellerId": SELLER,
        "clientId": "dj00import",
        "clientSecret": "cs-import",
        "refreshToken": "rt-import",
        "publicKey": RsaPublicKey::from(&private).to_public_key_pem(LineEnding::LF).unwrap(),
        "publicKeyVersion": 1,
    });
    let endpoints = MallEndpoints {
        yahoo: YahooEndpoints::at(&sandbox.base_url()),
        ..MallEndpoints::default()
    };
    let settings = ClientSettings {
        timeout: Duration::from_millis(500),
        requests_per_second: 1000.0,
        max_attempts: 4,
        backoff_min: Duration::from_millis(1),
        backoff_max: Duration::from_millis(10),
    };
    let mall = connect_yahoo(
        &store,
        &SecretValue::new(secret.to_string()),
        &endpoints,
        &settings,
    )
    .unwrap();
    let config = StoreConfig {
        store,
        secret_id: "unused".into(),
        import: ImportSettings {
            first_run_lookback: SignedDuration::from_hours(72),
            ..ImportSettings::default()
        },
        enabled: true,
    };
    Setup {
        _sandbox: sandbox,
        control,
        mall,
        config,
    }
}

fn differential(config: &StoreConfig) -> ImportCommand {
    ImportCommand {
        store: config.store.clone(),
        request: ImportRequest::Differential,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_and_import_again() {
    let s = setup().await;
    let made = s
        .control
        .yahoo_generate_orders(
            SELLER,
            &YahooGenerateOptions {
                count: Some(25),
                days: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let orders = Orders::default();
    let checkpoints = Checkpoints::default();
    let ctx = ImportContext {
        config: &s.config,
        mall: &s.mall,
        orders: &orders,
        checkpoints: &checkpoints,
        clock: &SystemClock,
    };
    let report = run_import(&ctx, &differential(&s.config)).await.unwrap();
    assert_eq!(report.created.len(), 25, "{report:?}");
    let reservations = made
        .kinds
        .iter()
        .filter(|k| **k == YahooOrderKind::Reservation)
        .count();
    let writes = s.control.yahoo_writes().await.unwrap();
    assert_eq!(writes.len(), 25 - reservations);
    assert!(report.checkpoint_advanced_to.is_some());
    assert!(
        orders
            .0
            .lock()
            .unwrap()
            .values()
            .all(|o| o.holds.is_empty())
    );

    // Again: nothing new, nothing written twice.
    let again = run_import(&ctx, &differential(&s.config)).await.unwrap();
    assert!(again.created.is_empty(), "{again:?}");
    assert_eq!(s.control.yahoo_writes().await.unwrap().len(), writes.len());
    assert_eq!(orders.0.lock().unwrap().len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_mid_run_leaves_the_checkpoint_before_unimported_orders() {
    let s = setup().await;
    s.control
        .yahoo_generate_orders(
            SELLER,
            &YahooGenerateOptions {
                count: Some(30),
                days: Some(2),
                kinds: Some(vec![YahooOrderKind::Plain]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Enough for the list, some details and some acknowledgements, not for all.
    s.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            daily_quota: 30,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let orders = Orders::default();
    let checkpoints = Checkpoints::default();
    let ctx = ImportContext {
        config: &s.config,
        mall: &s.mall,
        orders: &orders,
        checkpoints: &checkpoints,
        clock: &SystemClock,
    };
    let error = run_import(&ctx, &differential(&s.config))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("daily quota reached"), "{text}");
    assert!(!error.is_retryable(), "no retry storm: {text}");
    let stored = orders.0.lock().unwrap().len();
    assert!(stored < 30, "{stored} stored");
    assert_eq!(*checkpoints.0.lock().unwrap(), None, "checkpoint not moved");

    // The next day (quota reset): the run completes, nothing twice.
    s.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let report = run_import(&ctx, &differential(&s.config)).await.unwrap();
    assert_eq!(report.created.len() + stored, 30, "{report:?}");
    assert_eq!(orders.0.lock().unwrap().len(), 30);
    assert!(checkpoints.0.lock().unwrap().is_some());
    let writes = s.control.yahoo_writes().await.unwrap();
    let mut ids: Vec<_> = writes.iter().map(|w| w.order_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), writes.len(), "no order acknowledged twice");
    assert_eq!(
        writes.len(),
        30,
        "acknowledgements the quota stopped are sent by the next run"
    );
}
