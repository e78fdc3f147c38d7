use ichigen_aws::ShopTable;
use ichigen_core::ports::{RateSlots, StoreError};
use ichigen_core::{MallId, StoreRef};

use crate::{sdk, shop, store_a};

#[tokio::test]
async fn a_rate_slot_is_claimed_once_per_store_and_lane() {
    let (_, _, table) = shop("rate-slots").await;
    let store = store_a();
    let start = 1_796_300_000_000;
    assert!(table.claim_slot(&store, "store", start).await.unwrap());
    assert!(
        !table.claim_slot(&store, "store", start).await.unwrap(),
        "another process holds it"
    );
    assert!(
        table
            .claim_slot(&store, "store", start + 1000)
            .await
            .unwrap()
    );
    // Another lane (Yahoo's URLs) and another store have slots of their own.
    assert!(table.claim_slot(&store, "orderInfo", start).await.unwrap());
    let other = StoreRef::new(MallId::Yahoo, "store-b");
    assert!(table.claim_slot(&other, "store", start).await.unwrap());
}

#[tokio::test]
async fn a_missing_table_is_an_error_naming_the_store() {
    let sdk = sdk().await;
    let table = ShopTable::new(aws_sdk_dynamodb::Client::new(&sdk), "t-no-such-table");
    let err = table
        .claim_slot(&store_a(), "store", 1_796_300_000_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("rakuten:store-a"), "{err}");
}
