use ichigen_core::ports::{Checkpoint, CheckpointStore, StoreConfigs};
use ichigen_core::{ImportSettings, MallId, StoreConfig, StoreRef};

use crate::{at, shop, store_a};

#[tokio::test]
async fn store_configs_are_put_got_and_listed() {
    let (_, _, table) = shop("configs").await;
    assert!(table.list_store_configs().await.unwrap().is_empty());

    let a = StoreConfig {
        store: store_a(),
        secret_id: "ichigen/example/rakuten/store-a".into(),
        import: ImportSettings {
            sync_start_at: Some(at("2026-11-01T00:00:00+09:00")),
            ..ImportSettings::default()
        },
        enabled: true,
    };
    let b = StoreConfig {
        store: StoreRef::new(MallId::Yahoo, "store-b"),
        secret_id: "ichigen/example/yahoo/store-b".into(),
        import: ImportSettings::default(),
        enabled: false,
    };
    table.put_store_config(&b).await.unwrap();
    table.put_store_config(&a).await.unwrap();
    // A checkpoint in the same table is not a config.
    let checkpoint = Checkpoint {
        imported_until: at("2026-11-22T09:00:00+09:00"),
        updated_at: at("2026-11-22T09:00:00+09:00"),
    };
    table
        .save_checkpoint(&store_a(), None, &checkpoint)
        .await
        .unwrap();

    assert_eq!(
        table.get_store_config(&store_a()).await.unwrap(),
        Some(a.clone())
    );
    let absent = StoreRef::new(MallId::Qoo10, "nowhere");
    assert_eq!(table.get_store_config(&absent).await.unwrap(), None);
    assert_eq!(
        table.list_store_configs().await.unwrap(),
        [a.clone(), b.clone()]
    );

    let paused = StoreConfig {
        enabled: false,
        ..a
    };
    table.put_store_config(&paused).await.unwrap();
    assert_eq!(table.list_store_configs().await.unwrap(), [paused, b]);
}
