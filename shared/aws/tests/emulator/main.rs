//! Tests against the real AWS emulator (moto server). Each test makes its own uniquely named
//! table, queues and secrets, so tests run in parallel on one emulator without resets.
//!
//! ```text
//! moto_server -H 127.0.0.1 -p 5055 &
//! AWS_ENDPOINT_URL=http://127.0.0.1:5055 AWS_REGION=ap-northeast-1 \
//!   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test cargo test -p ichigen-aws
//! ```

// Test helpers panic on purpose: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod checkpoints;
mod operator_store;
mod orders;
mod queue;
mod rate_slots;
mod store_configs;
mod vault;

use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::SdkConfig;
use ichigen_aws::{ShopHandles, ShopResources, ShopTable};
use ichigen_core::hold::{Hold, HoldKind};
use ichigen_core::order::{
    Address, Amounts, Buyer, ChosenOption, Delivery, Destination, Gift, HistoryEntry, MallStatus,
    OrderLine, Payment, PaymentMethod, RawPayload, TimeSlot, Wrapping,
};
use ichigen_core::status::{MallSync, OrderStatus, SyncState};
use ichigen_core::{JstInstant, MallId, Order, OrderId, StoreRef};

/// The SDK configuration for the emulator. Fails loudly when no emulator is configured:
/// these tests must never pass silently, nor run against a real AWS account.
pub async fn sdk() -> SdkConfig {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => {}
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: the ichigen-aws tests run against the AWS emulator. \
             Start it with `moto_server -H 127.0.0.1 -p 5055` and run the tests with \
             AWS_ENDPOINT_URL=http://127.0.0.1:5055 AWS_REGION=ap-northeast-1 \
             AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
        ),
    }
    ichigen_aws::sdk_config().await
}

/// A name no other test (or earlier run against the same emulator) uses.
pub fn unique(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "t-{label}-{:x}-{:x}{n}",
        std::process::id(),
        nanos % 0xffff_ffff
    )
}

/// A fresh shop (table and queues) on the emulator.
pub async fn shop(label: &str) -> (SdkConfig, ShopHandles, ShopTable) {
    let sdk = sdk().await;
    let handles = ichigen_aws::ensure_shop(&sdk, &ShopResources::with_prefix(&unique(label)))
        .await
        .expect("create the shop's resources on the emulator");
    let table = ShopTable::new(aws_sdk_dynamodb::Client::new(&sdk), &handles.table_name);
    (sdk, handles, table)
}

pub fn at(text: &str) -> JstInstant {
    text.parse().expect("an RFC 3339 instant")
}

pub fn store_a() -> StoreRef {
    StoreRef::new(MallId::Rakuten, "store-a")
}

/// A complete order, every field set, with Japanese text and emoji in the raw payload.
pub fn order(store: &StoreRef, mall_order_id: &str, ordered_at: &str) -> Order {
    let ordered_at = at(ordered_at);
    let raw = serde_json::json!({
        "orderNumber": mall_order_id,
        "OrdererModel": { "familyName": "山田", "firstName": "太郎", "nickName": "たろう🐱" },
        "remarks": "[配送日時指定:]\n午前中でお願いします🙏 のし：御祝",
        "PackageModelList": [{ "ItemModelList": [{ "itemName": "特選 抹茶ロールケーキ 🍵", "units": 2 }] }],
    });
    Order {
        id: OrderId::new(store, mall_order_id),
        store: store.clone(),
        mall_order_id: mall_order_id.to_owned(),
        ordered_at,
        buyer: Buyer {
            name: "山田 太郎".into(),
            kana: Some("ヤマダ タロウ".into()),
            email: Some("abc123@pc.fw.rakuten.ne.jp".into()),
            phone: Some("090-0000-0000".into()),
            address: Some(Address {
                postcode: "150-0001".into(),
                prefecture: "東京都".into(),
                city: "渋谷区".into(),
                street: "神宮前1-2-3 ハイツ101".into(),
            }),
        },
        destinations: vec![Destination {
            mall_destination_id: Some("987654".into()),
            recipient_name: "佐藤 花子".into(),
            recipient_kana: None,
            phone: Some("03-0000-0000".into()),
            address: Address {
                postcode: "530-0001".into(),
                prefecture: "大阪府".into(),
                city: "大阪市北区".into(),
                street: "梅田1-1-1".into(),
            },
            mall_carrier_code: Some("1001".into()),
            lines: vec![OrderLine {
                mall_line_id: "1".into(),
                mall_item_id: "matcha-roll".into(),
                seller_sku: Some("MR-001".into()),
                option_code: Some("size-l".into()),
                sku: Some("SKU-MR-001-L".into()),
                name: "特選 抹茶ロールケーキ 🍵".into(),
                options: vec![ChosenOption {
                    name: "サイズ".into(),
                    value: "L".into(),
                }],
                quantity: 2,
                unit_price: 1650,
                option_surcharge: 150,
                tax_rate_percent: 8,
                gift_wrapped: true,
            }],
        }],
        amounts: Amounts {
            goods: 3300,
            shipping: 800,
            cod_fee: 0,
            payment_fee: 0,
            gift_wrapping: 220,
            coupons: 300,
            coupons_shop_funded: 100,
            points: 50,
            total: 4320,
            billed: 3970,
            tax: Some(320),
        },
        payment: Payment {
            method: PaymentMethod::Konbini,
            mall_method_code: "14".into(),
            mall_method_name: "コンビニ前払".into(),
            paid_at: Some(at("2026-11-22T12:00:05+09:00")),
            due_date: Some(jiff::civil::date(2026, 11, 29)),
        },
        delivery: Delivery {
            mall_method_name: "宅配便".into(),
            carrier: Some("yamato".into()),
            desired_date: Some(jiff::civil::date(2026, 11, 27)),
            time_slot: Some(TimeSlot {
                raw: "0812".into(),
                mapped: Some("08-12".into()),
            }),
        },
        gift: Gift {
            is_gift: true,
            wrappings: vec![Wrapping {
                kind: "paper".into(),
                name: "和紙包装".into(),
                price: 220,
            }],
            noshi: Some("御祝 🎉".into()),
        },
        notes: Some("午前中でお願いします🙏".into()),
        mall_status: MallStatus {
            code: "100".into(),
            label: "注文確認待ち".into(),
        },
        status: OrderStatus::ReadyToShip,
        holds: vec![],
        mall_sync: MallSync {
            operation: Some("confirmOrder".into()),
            state: SyncState::Failed {
                reason: "HTTP 503 から回復せず".into(),
                retryable: true,
            },
            attempts: 3,
            updated_at: Some(at("2026-11-22T10:20:00+09:00")),
        },
        history: vec![HistoryEntry {
            at: at("2026-11-22T10:16:00+09:00"),
            event: "imported".into(),
            changes: vec!["amounts.billed: 4020 → 3970".into()],
        }],
        operator: Default::default(),
        version: 1,
        imported_at: at("2026-11-22T10:16:00+09:00"),
        updated_at: at("2026-11-22T10:16:00+09:00"),
        raw: RawPayload::json(&raw),
    }
}

pub fn hold() -> Hold {
    Hold::new(
        HoldKind::UnmappedSku,
        Some("itemNumber".to_owned()),
        "SKU MR-001 は対応表にありません",
    )
}
