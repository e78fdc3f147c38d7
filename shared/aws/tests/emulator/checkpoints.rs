use ichigen_core::ports::{Checkpoint, CheckpointStore, StoreError};
use ichigen_core::{MallId, StoreRef};

use crate::{at, shop, store_a};

fn checkpoint(until: &str) -> Checkpoint {
    Checkpoint {
        imported_until: at(until),
        updated_at: at("2026-11-22T10:00:00+09:00"),
    }
}

#[tokio::test]
async fn checkpoint_is_created_once_and_advances_only_from_what_was_read() {
    let (_, _, table) = shop("checkpoint").await;
    let store = store_a();
    assert_eq!(table.load_checkpoint(&store).await.unwrap(), None);

    let first = checkpoint("2026-11-22T09:00:00+09:00");
    table.save_checkpoint(&store, None, &first).await.unwrap();
    let again = table
        .save_checkpoint(&store, None, &checkpoint("2026-11-22T09:30:00+09:00"))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert_eq!(
        table.load_checkpoint(&store).await.unwrap(),
        Some(first.clone())
    );

    let second = checkpoint("2026-11-22T09:03:00+09:00");
    table
        .save_checkpoint(&store, Some(&first), &second)
        .await
        .unwrap();
    let third = checkpoint("2026-11-22T09:06:00+09:00");
    let err = table
        .save_checkpoint(&store, Some(&first), &third)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { expected, .. } if expected == "2026-11-22T09:00:00+09:00"),
        "{err}"
    );
    assert_eq!(table.load_checkpoint(&store).await.unwrap(), Some(second));

    // Another store's checkpoint is its own.
    let other = StoreRef::new(MallId::Rakuten, "store-b");
    assert_eq!(table.load_checkpoint(&other).await.unwrap(), None);
}

#[tokio::test]
async fn the_open_orders_checkpoint_is_kept_apart_from_the_import_checkpoint() {
    let (_, _, table) = shop("follow-checkpoint").await;
    let store = store_a();
    let imported = checkpoint("2026-11-22T09:00:00+09:00");
    table
        .save_checkpoint(&store, None, &imported)
        .await
        .unwrap();
    assert_eq!(table.load_follow_checkpoint(&store).await.unwrap(), None);

    let followed = checkpoint("2026-11-22T08:00:00+09:00");
    table
        .save_follow_checkpoint(&store, None, &followed)
        .await
        .unwrap();
    let moved_meanwhile = table
        .save_follow_checkpoint(&store, None, &checkpoint("2026-11-22T08:10:00+09:00"))
        .await;
    assert!(
        matches!(moved_meanwhile, Err(StoreError::Conflict { .. })),
        "{moved_meanwhile:?}"
    );
    let next = checkpoint("2026-11-22T08:10:00+09:00");
    table
        .save_follow_checkpoint(&store, Some(&followed), &next)
        .await
        .unwrap();
    assert_eq!(
        table.load_follow_checkpoint(&store).await.unwrap(),
        Some(next)
    );
    assert_eq!(table.load_checkpoint(&store).await.unwrap(), Some(imported));
}
