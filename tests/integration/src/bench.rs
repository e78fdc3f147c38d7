//! Set-up shared by the benchmarks (`benches/import.rs`, `benches/follow.rs`): a fresh shop on
//! the emulator, a store of each mall registered in the sandbox with its secret, and each
//! mall's real pace (what the sandbox enforces and what the client keeps).

use aws_config::SdkConfig;
use ichigen_aws::{ShopResources, ShopTable, ensure_shop, put_secret};
use ichigen_core::ports::StoreConfigs;
use ichigen_core::{ImportSettings, MallId, StoreConfig, StoreRef};
use ichigen_sandbox::ControlClient;
use ichigen_sandbox::control::{
    AmazonLimits, AmazonRegisterSellerRequest, AupayLimits, AupayRegisterStoreRequest, Qoo10Limits,
    Qoo10RegisterStoreRequest, RakutenLimits, RegisterStoreRequest, YahooLimits,
    YahooRegisterStoreRequest,
};
use serde_json::{Value, json};

use crate::hours;

/// One call per 300 ms: the pace a production Qoo10 importer keeps (qoo10.md §11, [Q6]).
pub const QOO10_CALLS_PER_SECOND: f64 = 1.0 / 0.3;
/// The 1 request/s per store Rakuten integrations keep (rakuten.md §7: no documented limit).
pub const RAKUTEN_REQUESTS_PER_SECOND: f64 = 1.0;
/// au PAY: the sandbox enforces 1 request/s per store (aupay.md §7); the client keeps just
/// under it ([`ichigen_malls::http::PACE_MARGIN`]).
pub const AUPAY_REQUESTS_PER_SECOND: f64 = 1.0;

/// A fresh shop on the emulator (random prefix): its table, where stores are added.
pub struct BenchShop {
    pub prefix: String,
    pub table_name: String,
    pub table: ShopTable,
}

impl BenchShop {
    pub async fn new(sdk: &SdkConfig) -> anyhow::Result<BenchShop> {
        let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let handles = ensure_shop(sdk, &ShopResources::with_prefix(&prefix)).await?;
        let table = ShopTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            handles.table_name.clone(),
        );
        Ok(BenchShop {
            prefix,
            table_name: handles.table_name,
            table,
        })
    }

    /// A store of this shop: its secret and its settings (a first run that looks back 31 days).
    pub async fn add_store(
        &self,
        sdk: &SdkConfig,
        store: &StoreRef,
        secret: &Value,
    ) -> anyhow::Result<()> {
        let secret_id = format!("{}/{}/{}", self.prefix, store.mall, store.store_id);
        put_secret(sdk, &secret_id, secret).await?;
        self.table
            .put_store_config(&StoreConfig {
                store: store.clone(),
                secret_id,
                import: ImportSettings {
                    first_run_lookback: hours(24 * 31),
                    ..ImportSettings::default()
                },
                enabled: true,
            })
            .await?;
        Ok(())
    }
}

/// A fresh shop with one store. Returns the shop's table name.
pub async fn shop_with_store(
    sdk: &SdkConfig,
    store: &StoreRef,
    secret: &Value,
) -> anyhow::Result<String> {
    let shop = BenchShop::new(sdk).await?;
    shop.add_store(sdk, store, secret).await?;
    Ok(shop.table_name)
}

/// A store registered in the sandbox: ichigen's name for it, the mall's id for it (shop id,
/// seller id) and the secret ichigen keeps for it.
pub struct MallStore {
    pub store: StoreRef,
    pub mall_id: String,
    pub secret: Value,
}

/// The Rakuten shop `100001` as `rakuten:<store_id>`.
pub async fn register_rakuten(
    control: &ControlClient,
    store_id: &str,
) -> anyhow::Result<MallStore> {
    let shop_id = "100001";
    control
        .rakuten_register_store(&RegisterStoreRequest::new(
            shop_id,
            "bench-secret",
            "bench-key",
        ))
        .await?;
    Ok(MallStore {
        store: StoreRef::new(MallId::Rakuten, store_id),
        mall_id: shop_id.into(),
        secret: json!({"serviceSecret": "bench-secret", "licenseKey": "bench-key"}),
    })
}

/// The Yahoo seller `snbx-bench` (the sandbox makes its key pair) as `yahoo:<store_id>`.
pub async fn register_yahoo(control: &ControlClient, store_id: &str) -> anyhow::Result<MallStore> {
    let seller = "snbx-bench";
    let registered = control
        .yahoo_register_store(&YahooRegisterStoreRequest {
            seller_id: seller.into(),
            client_id: "dj00bench".into(),
            client_secret: "cs-bench".into(),
            refresh_token: "rt-bench".into(),
            private_key_pem: String::new(),
            key_version: 1,
        })
        .await?;
    Ok(MallStore {
        store: StoreRef::new(MallId::Yahoo, store_id),
        mall_id: seller.into(),
        secret: json!({
            "sellerId": seller, "clientId": "dj00bench", "clientSecret": "cs-bench",
            "refreshToken": "rt-bench", "publicKeyVersion": 1,
            "publicKey": registered.generated_public_key_pem.unwrap_or_default(),
        }),
    })
}

/// The au PAY shop `30000009` as `aupay:<store_id>`.
pub async fn register_aupay(control: &ControlClient, store_id: &str) -> anyhow::Result<MallStore> {
    let (shop_id, key) = ("30000009", "ak-bench");
    control
        .aupay_register_store(&AupayRegisterStoreRequest::new(shop_id, key))
        .await?;
    Ok(MallStore {
        store: StoreRef::new(MallId::Aupay, store_id),
        mall_id: shop_id.into(),
        secret: json!({"shopId": shop_id, "apiKey": key}),
    })
}

/// The Qoo10 seller `qoo10-bench` as `qoo10:<store_id>`.
pub async fn register_qoo10(control: &ControlClient, store_id: &str) -> anyhow::Result<MallStore> {
    let seller = "qoo10-bench";
    control
        .qoo10_register_store(&Qoo10RegisterStoreRequest {
            seller_id: seller.into(),
            api_key: "api-bench".into(),
            user_id: "login-bench".into(),
            password: "pwd-bench".into(),
        })
        .await?;
    Ok(MallStore {
        store: StoreRef::new(MallId::Qoo10, store_id),
        mall_id: seller.into(),
        secret: json!({"apiKey": "api-bench", "userId": "login-bench", "password": "pwd-bench"}),
    })
}

/// The Amazon seller `A1ICHIGENBENCH` and its LWA authorisation as `amazon:<store_id>`.
pub async fn register_amazon(control: &ControlClient, store_id: &str) -> anyhow::Result<MallStore> {
    let (seller, client_id, client_secret, refresh_token) = (
        "A1ICHIGENBENCH",
        "amzn1.application-oa2-client.bench",
        "amzn1.oa2-cs.v1.bench",
        "Atzr|IwEBIbench",
    );
    control
        .amazon_register_seller(&AmazonRegisterSellerRequest {
            seller_id: seller.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
        })
        .await?;
    Ok(MallStore {
        store: StoreRef::new(MallId::Amazon, store_id),
        mall_id: seller.into(),
        secret: json!({
            "clientId": client_id, "clientSecret": client_secret, "refreshToken": refresh_token,
        }),
    })
}

/// The requests per second the client keeps for `mall` at its real pace (Yahoo's client keeps
/// 1 query/s per URL; Amazon's paces itself from its usage plans and ignores this).
pub fn real_client_rate(mall: MallId) -> f64 {
    match mall {
        MallId::Rakuten | MallId::Yahoo | MallId::Amazon => RAKUTEN_REQUESTS_PER_SECOND,
        MallId::Aupay => AUPAY_REQUESTS_PER_SECOND,
        MallId::Qoo10 => QOO10_CALLS_PER_SECOND,
    }
}

/// The sandbox enforces `mall`'s real pace: Rakuten 1 request/s per store, Yahoo 1 query/s per
/// URL, au PAY 1 request/s per store, Qoo10 one call per 300 ms, Amazon its usage plans.
pub async fn enforce_real_pace(control: &ControlClient, mall: MallId) -> anyhow::Result<()> {
    match mall {
        MallId::Rakuten => {
            let limits = RakutenLimits {
                requests_per_second: Some(RAKUTEN_REQUESTS_PER_SECOND),
                ..control.rakuten_limits().await?
            };
            control.rakuten_set_limits(&limits).await?;
        }
        MallId::Yahoo => {
            let limits = YahooLimits {
                requests_per_second_per_url: Some(1.0),
                ..control.yahoo_limits().await?
            };
            control.yahoo_set_limits(&limits).await?;
        }
        MallId::Aupay => {
            let limits = AupayLimits {
                requests_per_second_per_shop: Some(1.0),
                ..control.aupay_limits().await?
            };
            control.aupay_set_limits(&limits).await?;
        }
        MallId::Qoo10 => {
            control
                .qoo10_set_limits(&Qoo10Limits {
                    requests_per_second: Some(QOO10_CALLS_PER_SECOND),
                    ..Qoo10Limits::default()
                })
                .await?;
        }
        MallId::Amazon => {
            control.amazon_set_limits(&AmazonLimits::default()).await?;
        }
    }
    Ok(())
}

/// The sandbox lifts `mall`'s limits (Amazon's rates 100 times faster: its client follows the
/// rate the answers report), so a benchmark's set-up import takes seconds.
pub async fn lift_pace(control: &ControlClient, mall: MallId) -> anyhow::Result<()> {
    match mall {
        MallId::Rakuten => {
            let limits = RakutenLimits {
                requests_per_second: None,
                ..control.rakuten_limits().await?
            };
            control.rakuten_set_limits(&limits).await?;
        }
        MallId::Yahoo => {
            let limits = YahooLimits {
                requests_per_second_per_url: None,
                ..control.yahoo_limits().await?
            };
            control.yahoo_set_limits(&limits).await?;
        }
        MallId::Aupay => {
            let limits = AupayLimits {
                requests_per_second_per_shop: None,
                ..control.aupay_limits().await?
            };
            control.aupay_set_limits(&limits).await?;
        }
        MallId::Qoo10 => {
            control.qoo10_set_limits(&Qoo10Limits::default()).await?;
        }
        MallId::Amazon => {
            control
                .amazon_set_limits(&AmazonLimits {
                    rate_scale: 100.0,
                    ..AmazonLimits::default()
                })
                .await?;
        }
    }
    Ok(())
}
