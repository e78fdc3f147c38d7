//! `ichigen demo`: the steps of the local end-to-end run (`scripts/local-run.sh`).
//!
//! The script owns the processes (emulator, sandbox, `cargo lambda watch`); these steps set up
//! the demo shop against them, and read back what the function did. Nothing printed here holds
//! personal data: orders are named by id, holds by reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ichigen_aws::{ShopResources, ShopTable, ensure_shop, put_secret};
use ichigen_core::hold::HoldKind;
use ichigen_core::ports::{Clock, StoreConfigs, SystemClock};
use ichigen_core::{ImportSettings, MallId, Order, OrderStatus, StoreConfig, StoreRef};
use ichigen_sandbox::ControlClient;
use ichigen_sandbox::control::{GenerateOptions, RegisterStoreRequest};
use serde_json::{Value, json};

/// The demo shop's Rakuten stores: (our store id, Rakuten shop id).
const STORES: [(&str, &str); 2] = [("store-a", "100001"), ("store-b", "100002")];
/// The demo shop's Yahoo! Shopping store: (our store id, Yahoo seller id).
const YAHOO_STORE: (&str, &str) = ("store-y", "snbx-demo");
/// The demo shop's two au PAY Market stores: (our store id, au PAY shopId, API key).
const AUPAY_STORES: [(&str, &str, &str); 2] = [
    ("store-au1", "30000001", "demo-au-key-1"),
    ("store-au2", "30000002", "demo-au-key-2"),
];
/// The demo shop's Qoo10 store: (our store id, QSM seller id).
const QOO10_STORE: (&str, &str) = ("store-q", "qoo10-demo");
/// The demo shop's Amazon.co.jp store: (our store id, the seller's merchant token).
const AMAZON_STORE: (&str, &str) = ("store-amz", "A1ICHIGENDEMO");
/// The demo's LWA application and the seller's authorisation of it.
const AMAZON_LWA: (&str, &str, &str) = (
    "amzn1.application-oa2-client.demo",
    "amzn1.oa2-cs.v1.demo",
    "Atzr|IwEBIdemo",
);

#[derive(Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    step: Step,
}

#[derive(Subcommand)]
enum Step {
    /// Create the shop's resources, register the stores in the sandbox, seed orders.
    Setup {
        #[arg(long, default_value = "demo")]
        shop: String,
        #[arg(long)]
        sandbox_url: String,
        /// Orders seeded per store.
        #[arg(long, default_value_t = 40)]
        orders: usize,
        /// Where to write the environment the function needs (shell `export` lines).
        #[arg(long)]
        env_file: PathBuf,
    },
    /// Summarise one invocation's output (the function's JSON response).
    Summarize { file: PathBuf },
    /// Change one order on the mall (the buyer asks to cancel) and write an SQS event asking
    /// for its re-import.
    ChangeOne {
        #[arg(long, default_value = "demo")]
        shop: String,
        #[arg(long)]
        sandbox_url: String,
        #[arg(long)]
        event_file: PathBuf,
    },
    /// The mall stops returning one listed order of store-b (`--set`), or returns it again and
    /// an operator asks for it (`--clear`, writes an SQS event for its targeted import).
    Quarantine {
        #[arg(long)]
        sandbox_url: String,
        #[arg(long, conflicts_with = "clear")]
        set: bool,
        #[arg(long)]
        clear: bool,
        #[arg(long, required_if_eq("clear", "true"))]
        event_file: Option<PathBuf>,
        #[arg(long, default_value = "demo")]
        shop: String,
    },
    /// Life goes on at the malls after import: on each mall a buyer pays an order awaiting
    /// payment (every one on Amazon: Pending → Unshipped, five minutes ago), lines or whole
    /// orders are cancelled and a buyer asks to cancel, each through the sandbox's control API.
    MallChanges {
        #[arg(long, default_value = "demo")]
        shop: String,
        #[arg(long)]
        sandbox_url: String,
    },
    /// What the order book and the mall look like now.
    Report {
        #[arg(long, default_value = "demo")]
        shop: String,
        #[arg(long)]
        sandbox_url: String,
    },
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    match args.step {
        Step::Setup {
            shop,
            sandbox_url,
            orders,
            env_file,
        } => setup(&shop, &sandbox_url, orders, &env_file).await?,
        Step::Summarize { file } => summarize(&file)?,
        Step::ChangeOne {
            shop,
            sandbox_url,
            event_file,
        } => change_one(&shop, &sandbox_url, &event_file).await?,
        Step::Report { shop, sandbox_url } => report(&shop, &sandbox_url).await?,
        Step::MallChanges { shop, sandbox_url } => mall_changes(&shop, &sandbox_url).await?,
        Step::Quarantine {
            sandbox_url,
            set,
            clear,
            event_file,
            shop,
        } => quarantine(&shop, &sandbox_url, set, clear, event_file.as_deref()).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn resources(shop: &str) -> ShopResources {
    ShopResources::with_prefix(&format!("ichigen-{shop}"))
}

fn store_ref(store_id: &str) -> StoreRef {
    StoreRef::new(MallId::Rakuten, store_id)
}

fn secret_id(shop: &str, store_id: &str) -> String {
    format!("ichigen/{shop}/rakuten/{store_id}")
}

async fn sdk() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

async fn setup(
    shop: &str,
    sandbox_url: &str,
    orders: usize,
    env_file: &Path,
) -> anyhow::Result<()> {
    let sdk = sdk().await;
    let handles = ensure_shop(&sdk, &resources(shop)).await?;
    let table = ShopTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        handles.table_name.clone(),
    );
    let sandbox = ControlClient::new(sandbox_url);
    let now = SystemClock.now();
    let at = |hours_ago: i64| now.checked_sub(jiff::SignedDuration::from_hours(hours_ago));

    for (index, (store_id, shop_id)) in STORES.into_iter().enumerate() {
        let service_secret = format!("demo-service-secret-{store_id}");
        let license_key = format!("demo-license-key-{store_id}");
        let expires = now.checked_add(jiff::SignedDuration::from_hours(24 * 80))?;
        let mut register = RegisterStoreRequest::new(shop_id, &service_secret, &license_key);
        register.license_expires_at =
            Some(expires.civil().strftime("%Y-%m-%dT%H:%M:%S").to_string());
        sandbox.rakuten_register_store(&register).await?;
        let secret = json!({
            "serviceSecret": service_secret,
            "licenseKey": license_key,
            "licenseKeyExpiresAt": expires.to_string(),
        });
        add_store(
            &sdk,
            &table,
            &store_ref(store_id),
            &secret_id(shop, store_id),
            &secret,
        )
        .await?;

        let mut options =
            GenerateOptions::spread(orders, rakuten_time(at(20)?), rakuten_time(at(0)?));
        options.seed = Some(7 + index as u64);
        let generated = sandbox.rakuten_generate_orders(shop_id, &options).await?;
        println!(
            "  rakuten:{store_id} (Rakuten shop {shop_id}): {} orders seeded over the last 20 hours — {}",
            generated.order_numbers.len(),
            count_kinds(&generated.kinds)
        );
    }

    setup_yahoo(&sdk, &table, shop, &sandbox, orders).await?;
    setup_aupay(&sdk, &table, shop, &sandbox, orders).await?;
    setup_qoo10(&sdk, &table, shop, &sandbox, orders).await?;
    setup_amazon(&sdk, &table, shop, &sandbox, orders).await?;

    let env = format!(
        "export ICHIGEN_TABLE={table}\nexport ICHIGEN_IMPORT_QUEUE_URL={queue}\nexport ICHIGEN_WRITE_QUEUE_URL={writes}\nexport ICHIGEN_RAKUTEN_BASE_URL={sandbox_url}\nexport AWS_ENDPOINT_URL={endpoint}\n",
        table = handles.table_name,
        queue = handles.import_queue_url,
        writes = handles.write_queue_url,
        endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default(),
    );
    if let Some(dir) = env_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(env_file, env)
        .with_context(|| format!("cannot write {}", env_file.display()))?;
    println!(
        "  table {}, import queue {}",
        handles.table_name, handles.import_queue_url
    );
    Ok(())
}

/// The Yahoo store: registered in the sandbox (which makes the store's key pair and hands
/// back the public half, as Yahoo's seller tools do), its secret, its settings, its orders.
async fn setup_yahoo(
    sdk: &aws_config::SdkConfig,
    table: &ShopTable,
    shop: &str,
    sandbox: &ControlClient,
    orders: usize,
) -> anyhow::Result<()> {
    use ichigen_sandbox::control::{YahooGenerateOptions, YahooRegisterStoreRequest};
    let (store_id, seller_id) = YAHOO_STORE;
    let registered = sandbox
        .yahoo_register_store(&YahooRegisterStoreRequest {
            seller_id: seller_id.into(),
            client_id: "dj00demo".into(),
            client_secret: "demo-client-secret".into(),
            refresh_token: "demo-refresh-token".into(),
            private_key_pem: String::new(),
            key_version: 1,
        })
        .await?;
    let public_key = registered
        .generated_public_key_pem
        .context("the sandbox did not hand back a public key")?;
    // The demo runs at the local pace; the benchmark measures Yahoo's 1 query/s per URL.
    sandbox
        .yahoo_set_limits(&ichigen_sandbox::control::YahooLimits {
            requests_per_second_per_url: None,
            ..sandbox.yahoo_limits().await?
        })
        .await?;
    let store = StoreRef::new(MallId::Yahoo, store_id);
    let secret_id = format!("ichigen/{shop}/yahoo/{store_id}");
    let secret = json!({
        "sellerId": seller_id,
        "clientId": "dj00demo",
        "clientSecret": "demo-client-secret",
        "refreshToken": "demo-refresh-token",
        "publicKey": public_key,
        "publicKeyVersion": 1,
    });
    add_store(sdk, table, &store, &secret_id, &secret).await?;
    let generated = sandbox
        .yahoo_generate_orders(
            seller_id,
            &YahooGenerateOptions {
                count: Some(orders),
                days: Some(1),
                seed: Some(11),
                ..Default::default()
            },
        )
        .await?;
    println!(
        "  {store} (Yahoo seller {seller_id}): {} orders seeded over the last day — {}",
        generated.order_ids.len(),
        count_kinds(&generated.kinds)
    );
    Ok(())
}

/// The two au PAY stores: each registered in the sandbox with its own API key, its secret,
/// its settings and its orders (odd ones included: unpaid konbini, M/T 管理ID, gift …).
async fn setup_aupay(
    sdk: &aws_config::SdkConfig,
    table: &ShopTable,
    shop: &str,
    sandbox: &ControlClient,
    orders: usize,
) -> anyhow::Result<()> {
    use ichigen_sandbox::control::{AupayGenerateOptions, AupayRegisterStoreRequest};
    for (index, (store_id, shop_id, key)) in AUPAY_STORES.into_iter().enumerate() {
        sandbox
            .aupay_register_store(&AupayRegisterStoreRequest::new(shop_id, key))
            .await?;
        let store = StoreRef::new(MallId::Aupay, store_id);
        let secret_id = format!("ichigen/{shop}/aupay/{store_id}");
        add_store(
            sdk,
            table,
            &store,
            &secret_id,
            &json!({"shopId": shop_id, "apiKey": key}),
        )
        .await?;
        let generated = sandbox
            .aupay_generate_orders(
                shop_id,
                &AupayGenerateOptions {
                    count: Some(orders),
                    days: Some(1),
                    seed: Some(21 + index as u64),
                    ..Default::default()
                },
            )
            .await?;
        println!(
            "  {store} (au PAY shop {shop_id}): {} orders seeded over the last day — {}",
            generated.order_ids.len(),
            count_kinds(&generated.kinds)
        );
    }
    Ok(())
}

/// The Qoo10 store: a QSM seller in the sandbox, its secret, its settings, and its carts —
/// one split across three carriers, the rest a seeded mix.
async fn setup_qoo10(
    sdk: &aws_config::SdkConfig,
    table: &ShopTable,
    shop: &str,
    sandbox: &ControlClient,
    orders: usize,
) -> anyhow::Result<()> {
    use ichigen_sandbox::control::{
        Qoo10GenerateOptions, Qoo10OrderKind, Qoo10RegisterStoreRequest,
    };
    let (store_id, seller_id) = QOO10_STORE;
    sandbox
        .qoo10_register_store(&Qoo10RegisterStoreRequest {
            seller_id: seller_id.into(),
            api_key: "demo-qoo10-api-key".into(),
            user_id: "qoo10-demo-login".into(),
            password: "demo-qsm-password".into(),
        })
        .await?;
    let store = StoreRef::new(MallId::Qoo10, store_id);
    let secret_id = format!("ichigen/{shop}/qoo10/{store_id}");
    let secret = json!({
        "apiKey": "demo-qoo10-api-key",
        "userId": "qoo10-demo-login",
        "password": "demo-qsm-password",
    });
    add_store(sdk, table, &store, &secret_id, &secret).await?;
    let split = sandbox
        .qoo10_generate_orders(
            seller_id,
            &Qoo10GenerateOptions {
                count: Some(1),
                kinds: vec![Qoo10OrderKind::ThreeCarriers],
                seed: Some(13),
                spread_secs: Some(20 * 3_600),
            },
        )
        .await?;
    let rest = sandbox
        .qoo10_generate_orders(
            seller_id,
            &Qoo10GenerateOptions {
                count: Some(orders.saturating_sub(1)),
                seed: Some(13),
                spread_secs: Some(20 * 3_600),
                ..Default::default()
            },
        )
        .await?;
    println!(
        "  {store} (Qoo10 seller {seller_id}): {} carts seeded over the last 20 hours, cart {} split \
         across three carriers — {}",
        split.pack_nos.len() + rest.pack_nos.len(),
        split.pack_nos.first().copied().unwrap_or_default(),
        count_kinds(&split.kinds.iter().chain(&rest.kinds).collect::<Vec<_>>())
    );
    Ok(())
}

/// The Amazon store: a seller and its LWA authorisation in the sandbox, its secret, its
/// settings and its orders (the generator's mix: Pending konbini, COD, FBA, gift, points …).
async fn setup_amazon(
    sdk: &aws_config::SdkConfig,
    table: &ShopTable,
    shop: &str,
    sandbox: &ControlClient,
    orders: usize,
) -> anyhow::Result<()> {
    use ichigen_sandbox::control::{
        AmazonGenerateOptions, AmazonLimits, AmazonRegisterSellerRequest,
    };
    let (store_id, seller_id) = AMAZON_STORE;
    let (client_id, client_secret, refresh_token) = AMAZON_LWA;
    sandbox
        .amazon_register_seller(&AmazonRegisterSellerRequest {
            seller_id: seller_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
        })
        .await?;
    // Amazon's buckets and bursts, with the rates ten times faster so the demo takes seconds;
    // the benchmark measures the real rates.
    sandbox
        .amazon_set_limits(&AmazonLimits {
            rate_scale: 10.0,
            ..AmazonLimits::default()
        })
        .await?;
    let store = StoreRef::new(MallId::Amazon, store_id);
    let secret_id = format!("ichigen/{shop}/amazon/{store_id}");
    let secret = json!({
        "clientId": client_id,
        "clientSecret": client_secret,
        "refreshToken": refresh_token,
    });
    add_store(sdk, table, &store, &secret_id, &secret).await?;
    let generated = sandbox
        .amazon_generate_orders(
            seller_id,
            &AmazonGenerateOptions {
                count: u32::try_from(orders).unwrap_or(u32::MAX),
                seed: Some(31),
                spread_minutes: 20 * 60,
                ..AmazonGenerateOptions::default()
            },
        )
        .await?;
    println!(
        "  {store} (Amazon seller {seller_id}): {} orders updated over the last 20 hours — {}",
        generated.order_ids.len(),
        count_kinds(&generated.kinds)
    );
    Ok(())
}

/// A store of the demo shop: its secret, and its settings with the sync start two days back.
async fn add_store(
    sdk: &aws_config::SdkConfig,
    table: &ShopTable,
    store: &StoreRef,
    secret_id: &str,
    secret: &Value,
) -> anyhow::Result<()> {
    put_secret(sdk, secret_id, secret).await?;
    let now = SystemClock.now();
    table
        .put_store_config(&StoreConfig {
            store: store.clone(),
            secret_id: secret_id.to_owned(),
            import: ImportSettings {
                sync_start_at: Some(now.checked_sub(jiff::SignedDuration::from_hours(48))?),
                ..ImportSettings::default()
            },
            enabled: true,
        })
        .await?;
    Ok(())
}

/// "3 Pending, 1 Cod …": how many of each kind the sandbox generated.
fn count_kinds<K: std::fmt::Debug>(kinds: &[K]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for kind in kinds {
        *counts.entry(format!("{kind:?}")).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn mall_changes(shop: &str, sandbox_url: &str) -> anyhow::Result<()> {
    let sdk = sdk().await;
    let table = ShopTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        resources(shop).table_name,
    );
    let sandbox = ControlClient::new(sandbox_url);
    let in_status = |store: StoreRef, status: OrderStatus| {
        let table = &table;
        async move { table.orders_by_status(&store, status, 1_000).await }
    };
    // A multi-line order ready to ship, and one more ready order, of a store.
    let pick = |orders: &[Order]| {
        let multi = orders.iter().find(|o| o.lines().count() >= 2).cloned();
        let other = orders
            .iter()
            .find(|o| Some(&o.id) != multi.as_ref().map(|m| &m.id))
            .cloned();
        (multi, other)
    };

    // Rakuten: one order cancelled (900), one with a cancel request (800), one prepayment
    // paid (getPayment 30600 決済確定), one line of another multi-line order cancelled.
    let (store_id, shop_id) = STORES[0];
    if let Some(order) = in_status(store_ref(store_id), OrderStatus::AwaitingPayment)
        .await?
        .first()
    {
        sandbox
            .rakuten_pay(shop_id, &order.mall_order_id, None)
            .await?;
        println!(
            "  Rakuten: order {} paid (getPayment 30600 決済確定)",
            order.mall_order_id
        );
    }
    let ready = in_status(store_ref(store_id), OrderStatus::ReadyToShip).await?;
    let (requested, cancelled) = pick(&ready);
    let taken = [&requested, &cancelled].map(|o| o.as_ref().map(|o| o.id.clone()));
    // A line whose destination keeps another line (the last line of one is a cancellation
    // of more than a line).
    let line_cancel = ready
        .iter()
        .filter(|o| !taken.contains(&Some(o.id.clone())))
        .find_map(|o| {
            let line = o
                .destinations
                .iter()
                .find(|d| d.lines.len() >= 2)?
                .lines
                .last()?;
            Some((o.mall_order_id.clone(), line.mall_line_id.clone()))
        });
    if let Some((number, line)) = &line_cancel {
        sandbox
            .rakuten_cancel_line(shop_id, number, line.parse()?)
            .await?;
        println!("  Rakuten: line {line} of order {number} cancelled");
    }
    if let Some(order) = &cancelled {
        sandbox
            .rakuten_set_progress(shop_id, &order.mall_order_id, 900)
            .await?;
        println!(
            "  Rakuten: order {} cancelled (900 キャンセル確定)",
            order.mall_order_id
        );
    }
    if let Some(order) = &requested {
        sandbox
            .rakuten_set_progress(shop_id, &order.mall_order_id, 800)
            .await?;
        println!(
            "  Rakuten: the buyer of order {} asks to cancel (800 キャンセル確定待ち)",
            order.mall_order_id
        );
    }

    // Yahoo: one unpaid order paid, one order cancelled (OrderStatus 4), one line of a
    // multi-line order removed by the store (注文内容変更).
    let (store_id, seller_id) = YAHOO_STORE;
    let store = StoreRef::new(MallId::Yahoo, store_id);
    if let Some(order) = in_status(store.clone(), OrderStatus::AwaitingPayment)
        .await?
        .first()
    {
        sandbox
            .yahoo_set_pay_status(seller_id, &order.mall_order_id, 1)
            .await?;
        println!("  Yahoo: order {} paid (PayStatus 1)", order.mall_order_id);
    }
    let (multi, other) = pick(&in_status(store, OrderStatus::ReadyToShip).await?);
    if let Some(order) = other {
        sandbox
            .yahoo_set_order_status(seller_id, &order.mall_order_id, 4)
            .await?;
        println!(
            "  Yahoo: order {} cancelled (OrderStatus 4)",
            order.mall_order_id
        );
    }
    if let Some(order) = multi
        && let Some(line) = order.lines().last()
    {
        sandbox
            .yahoo_cancel_line(seller_id, &order.mall_order_id, line.mall_line_id.parse()?)
            .await?;
        println!(
            "  Yahoo: line {} of order {} removed by the store",
            line.mall_line_id, order.mall_order_id
        );
    }

    // au PAY: one unpaid order paid (発送前入金待ち → 発送待ち), one line of a multi-line order
    // cancelled (au PAY's line values are not public: ichigen holds the order for a person).
    let (store_id, shop_id, _) = AUPAY_STORES[0];
    let store = StoreRef::new(MallId::Aupay, store_id);
    if let Some(order) = in_status(store.clone(), OrderStatus::AwaitingPayment)
        .await?
        .first()
    {
        sandbox.aupay_pay(shop_id, &order.mall_order_id).await?;
        println!("  au PAY: order {} paid", order.mall_order_id);
    }
    let (multi, _) = pick(&in_status(store, OrderStatus::ReadyToShip).await?);
    if let Some(order) = multi
        && let Some(line) = order.lines().last()
    {
        sandbox
            .aupay_cancel_lines(shop_id, &order.mall_order_id, &[line.mall_line_id.as_str()])
            .await?;
        println!(
            "  au PAY: line {} of order {} cancelled",
            line.mall_line_id, order.mall_order_id
        );
    }

    // Qoo10: one unpaid cart paid, one line of a multi-line cart cancelled (claim 3).
    let (store_id, seller_id) = QOO10_STORE;
    let store = StoreRef::new(MallId::Qoo10, store_id);
    if let Some(order) = in_status(store.clone(), OrderStatus::AwaitingPayment)
        .await?
        .first()
    {
        let pack_no = order.mall_order_id.parse()?;
        sandbox.qoo10_pay_cart(seller_id, pack_no).await?;
        println!("  Qoo10: cart {pack_no} paid");
    }
    let (multi, _) = pick(&in_status(store, OrderStatus::ReadyToShip).await?);
    if let Some(order) = multi
        && let Some(line) = order.lines().last()
    {
        let claim = ichigen_sandbox::control::Qoo10ClaimRequest {
            claim_stat: 3,
            reason: "buyer changed mind".into(),
        };
        sandbox
            .qoo10_claim_line(seller_id, line.mall_line_id.parse()?, &claim)
            .await?;
        println!(
            "  Qoo10: line {} of cart {} cancelled (claim キャンセル完了)",
            line.mall_line_id, order.mall_order_id
        );
    }

    // Amazon: every order awaiting payment is paid at the konbini, five minutes ago (inside
    // the next run's window, which ends two minutes before now).
    use ichigen_sandbox::control::AmazonOrderEventRequest;
    let (store_id, seller_id) = AMAZON_STORE;
    let store = StoreRef::new(MallId::Amazon, store_id);
    let paid_at = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_mins(5))?
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let waiting = in_status(store.clone(), OrderStatus::AwaitingPayment).await?;
    for order in &waiting {
        sandbox
            .amazon_pay(
                seller_id,
                &order.mall_order_id,
                &AmazonOrderEventRequest {
                    at: Some(paid_at.clone()),
                },
            )
            .await?;
    }
    println!(
        "  Amazon: the {} order(s) of {store} awaiting payment are paid (Pending → Unshipped)",
        waiting.len()
    );
    let (multi, _) = pick(&in_status(store, OrderStatus::ReadyToShip).await?);
    if let Some(order) = multi
        && let Some(line) = order.lines().last()
    {
        let request = ichigen_sandbox::control::AmazonCancelItemRequest {
            order_item_id: line.mall_line_id.clone(),
            at: Some(paid_at.clone()),
        };
        sandbox
            .amazon_cancel_item(seller_id, &order.mall_order_id, &request)
            .await?;
        println!(
            "  Amazon: item {} of order {} cancelled by the seller",
            line.mall_line_id, order.mall_order_id
        );
    }
    Ok(())
}

/// Rakuten's wire form, which the sandbox's control API also takes.
fn rakuten_time(at: ichigen_core::JstInstant) -> String {
    format!("{}+0900", at.civil().strftime("%Y-%m-%dT%H:%M:%S"))
}

fn summarize(file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let output: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not the function's JSON output", file.display()))?;
    if let Some(failures) = output.get("batchItemFailures").and_then(Value::as_array) {
        println!(
            "  queue batch handled: {} message(s) failed and will be retried",
            failures.len()
        );
        return Ok(());
    }
    let count = |key: &str| match output.get(key) {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as usize,
        _ => 0,
    };
    println!(
        "  {}: listed {}, fetched {}, imported {}, already imported {}, re-imported {}, changed on the mall {}, held {}, mall writes queued {} (again {}, not queued {}), quarantined {}, recovered from quarantine {}",
        output.get("store").and_then(Value::as_str).unwrap_or("?"),
        count("listed"),
        count("fetched"),
        count("created"),
        count("already_imported"),
        count("reimported"),
        count("changed_on_mall"),
        count("held"),
        count("writes_queued"),
        count("writes_queued_again"),
        count("writes_not_queued"),
        count("quarantined"),
        count("recovered"),
    );
    if count("changed_on_mall") + count("unchanged_on_mall") > 0 {
        println!(
            "    followed on the mall: paid {}, cancelled {}, lines cancelled {}, cancel requested {}, request withdrawn {}, not applied {}, unchanged {}",
            count("paid_on_mall"),
            count("cancelled_on_mall"),
            count("lines_cancelled_on_mall"),
            count("cancel_requested_on_mall"),
            count("cancel_withdrawn_on_mall"),
            count("not_applied_on_mall"),
            count("unchanged_on_mall"),
        );
    }
    if let Some(checkpoint) = output.get("checkpoint_advanced_to").and_then(Value::as_str) {
        println!("    checkpoint advanced to {checkpoint}");
    }
    if let Some(rest) = output.get("unfinished").filter(|v| !v.is_null()) {
        println!("    stopped at its deadline; the rest is queued: {rest}");
    }
    for failure in output
        .get("quarantined")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!(
            "    quarantined order {}: {}",
            failure
                .get("mall_order_id")
                .and_then(Value::as_str)
                .unwrap_or("?"),
            failure.get("error").and_then(Value::as_str).unwrap_or("")
        );
    }
    for order in output
        .get("recovered")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!(
            "    recovered order {} (imported after all; its failed-import record is cleared)",
            order.as_str().unwrap_or("?")
        );
    }
    for held in output
        .get("held")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let order = held.get("order_id").and_then(Value::as_str).unwrap_or("?");
        for hold in held
            .get("holds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            println!(
                "    hold {order}: {} — {}",
                hold.get("kind").and_then(Value::as_str).unwrap_or("?"),
                hold.get("message").and_then(Value::as_str).unwrap_or("")
            );
        }
    }
    Ok(())
}

/// The order of store-b the demo's mall "loses".
async fn lost_order(sandbox: &ControlClient) -> anyhow::Result<(StoreRef, String, String)> {
    let (store_id, shop_id) = STORES[1];
    let numbers = sandbox.rakuten_order_numbers(shop_id).await?.order_numbers;
    let number = numbers
        .get(2)
        .context("the sandbox holds too few orders for store-b")?
        .clone();
    Ok((store_ref(store_id), shop_id.to_owned(), number))
}

async fn quarantine(
    shop: &str,
    sandbox_url: &str,
    set: bool,
    clear: bool,
    event_file: Option<&Path>,
) -> anyhow::Result<()> {
    use ichigen_sandbox::control::OrderFault;
    let sandbox = ControlClient::new(sandbox_url);
    let (store, shop_id, number) = lost_order(&sandbox).await?;
    if set {
        sandbox
            .rakuten_set_order_fault(&shop_id, &number, OrderFault::OmittedFromGetOrder)
            .await?;
        println!(
            "  on the mall, getOrder no longer returns order {number} of {store} (searchOrder still lists it)"
        );
    }
    if clear {
        sandbox
            .rakuten_set_order_fault(&shop_id, &number, OrderFault::None)
            .await?;
        let command = json!({
            "type": "orders",
            "store": store.to_string(),
            "mall_order_ids": [number],
        });
        let event = sqs_event(shop, "demo-retry-1", &store, &command);
        if let Some(file) = event_file {
            std::fs::write(file, serde_json::to_string_pretty(&event)?)?;
        }
        println!("  the mall returns order {number} again; an operator asks for it (SQS event)");
    }
    Ok(())
}

/// An SQS event as Lambda delivers it from the shop's FIFO import queue.
fn sqs_event(shop: &str, message_id: &str, store: &StoreRef, command: &Value) -> Value {
    json!({"Records": [{
        "messageId": message_id,
        "receiptHandle": "demo",
        "body": command.to_string(),
        "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": store.to_string()},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:ap-northeast-1:000000000000:ichigen-{shop}-import.fifo"),
        "awsRegion": "ap-northeast-1",
    }]})
}

async fn change_one(shop: &str, sandbox_url: &str, event_file: &Path) -> anyhow::Result<()> {
    let (store_id, shop_id) = STORES[0];
    let sandbox = ControlClient::new(sandbox_url);
    let numbers = sandbox.rakuten_order_numbers(shop_id).await?.order_numbers;
    let number = numbers
        .first()
        .context("the sandbox holds no orders for store-a")?;
    // The buyer asks to cancel: Rakuten shows the order as 800 キャンセル確定待ち.
    sandbox.rakuten_set_progress(shop_id, number, 800).await?;
    println!("  on the mall, order {number} of rakuten:{store_id} is now 800 (cancel requested)");
    let command = json!({
        "type": "orders",
        "store": store_ref(store_id).to_string(),
        "mall_order_ids": [number],
        "reimport": true,
    });
    let event = sqs_event(shop, "demo-reimport-1", &store_ref(store_id), &command);
    std::fs::write(event_file, serde_json::to_string_pretty(&event)?)?;
    Ok(())
}

/// One store's order book: orders by status, holds by reason, and the history of held orders.
async fn report_store(table: &ShopTable, store: &StoreRef) -> anyhow::Result<()> {
    let mut by_status = Vec::new();
    let mut all = Vec::new();
    let mut total = 0;
    for status in [
        OrderStatus::ReadyToShip,
        OrderStatus::AwaitingPayment,
        OrderStatus::OnHold,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ] {
        let orders = table.orders_by_status(store, status, 10_000).await?;
        let n = orders.len();
        total += n;
        if n > 0 {
            by_status.push(format!("{n} {status}"));
        }
        all.extend(orders);
    }
    println!(
        "  {store}: {total} orders in DynamoDB ({})",
        by_status.join(", ")
    );
    report_followed(&all);
    let held = table.orders_with_holds(store, 10_000).await?;
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for order in &held {
        for hold in &order.holds {
            *reasons.entry(hold.kind.as_str()).or_default() += 1;
        }
    }
    println!(
        "    {} held: {}",
        held.len(),
        reasons
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for order in held.iter().filter(|o| !o.history.is_empty()) {
        for entry in &order.history {
            println!(
                "    history of {}: {} at {} — {}",
                order.id,
                entry.event,
                entry.at,
                entry.changes.join("; ")
            );
        }
    }
    Ok(())
}

/// What following the mall did to a store's orders, from their history: payments and
/// cancellations (each partial one with the lines it named).
fn report_followed(orders: &[Order]) {
    let with = |event: &str| {
        orders
            .iter()
            .filter(|o| o.history.iter().any(|e| e.event == event))
            .count()
    };
    println!(
        "    followed on the mall: {} paid, {} cancelled, {} with lines cancelled, {} held for a cancel request",
        with("paid_on_mall"),
        with("cancelled_on_mall"),
        with("lines_cancelled_on_mall"),
        orders
            .iter()
            .filter(|o| o.holds.iter().any(|h| h.kind == HoldKind::CancelRequested))
            .count(),
    );
    for order in orders {
        for entry in order
            .history
            .iter()
            .filter(|e| e.event == "lines_cancelled_on_mall")
        {
            println!(
                "    {} ({}): {}",
                order.id,
                order.status,
                entry.changes.join("; ")
            );
        }
    }
}

async fn report(shop: &str, sandbox_url: &str) -> anyhow::Result<()> {
    let sdk = sdk().await;
    let table = ShopTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        resources(shop).table_name,
    );
    let sandbox = ControlClient::new(sandbox_url);
    let writes = sandbox.rakuten_writes().await?;
    let stats = sandbox.stats().await?;
    for (store_id, shop_id) in STORES {
        let store = store_ref(store_id);
        report_store(&table, &store).await?;
        let confirmed: usize = writes
            .iter()
            .filter(|w| w.shop_id == shop_id && w.operation == "confirmOrder")
            .map(|w| w.order_numbers.len())
            .sum();
        println!("    mall writes recorded by the sandbox: confirmOrder for {confirmed} orders");
    }
    let (store_id, seller_id) = YAHOO_STORE;
    let store = StoreRef::new(MallId::Yahoo, store_id);
    let writes = sandbox.yahoo_writes().await?;
    let changed = writes.iter().filter(|w| w.seller_id == seller_id).count();
    report_store(&table, &store).await?;
    println!(
        "    mall writes recorded by the sandbox: orderStatusChange (処理中) for {changed} orders"
    );
    let writes = sandbox.aupay_writes().await?;
    for (store_id, shop_id, _) in AUPAY_STORES {
        report_store(&table, &StoreRef::new(MallId::Aupay, store_id)).await?;
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        for write in writes.iter().filter(|w| w.shop_id == shop_id) {
            *by_status.entry(write.order_status.as_str()).or_default() += 1;
        }
        println!(
            "    mall writes recorded by the sandbox: updateTradeStsProc {}",
            by_status
                .iter()
                .map(|(status, n)| format!("→ {status} for {n} orders"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (store_id, seller_id) = QOO10_STORE;
    let store = StoreRef::new(MallId::Qoo10, store_id);
    let confirmed = sandbox
        .qoo10_writes()
        .await?
        .iter()
        .filter(|w| w.seller_id == seller_id)
        .count();
    report_store(&table, &store).await?;
    println!(
        "    mall writes recorded by the sandbox: SetSellerCheckYN_V2 (配送準備) for {confirmed} lines"
    );
    let (store_id, seller_id) = AMAZON_STORE;
    report_store(&table, &StoreRef::new(MallId::Amazon, store_id)).await?;
    let seller = sandbox.amazon_seller(seller_id).await?;
    let disclosures = sandbox.amazon_pii_log().await?;
    println!(
        "    no mall writes (Amazon has no acknowledgement); LWA access tokens {}, restricted-data tokens {}; personal data served {} times, {} of them under a restricted-data token",
        seller.access_tokens_issued,
        seller.restricted_data_tokens_issued,
        disclosures.len(),
        disclosures
            .iter()
            .filter(|d| d.under_restricted_data_token)
            .count(),
    );
    println!(
        "  mall API calls: {}",
        stats
            .requests
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
