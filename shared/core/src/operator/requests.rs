//! Re-import requests (注文再取込) and the quarantine of failed imports, as an operator sees
//! them: both end as import commands on the store's import queue, which import-orders reads
//! in the store's order.

use serde::{Deserialize, Serialize};

use super::OperatorError;
use crate::import::{ImportCommand, ImportRequest};
use crate::order::StoreRef;
use crate::ports::{Clock, FailedImport, FailedImportStore, ImportRequests, StoreConfigs};
use crate::time::JstInstant;

/// The most order numbers one re-import request takes.
pub const MAX_REIMPORT_ORDERS: usize = 100;
/// The longest range one re-import request takes (import-orders splits it further).
pub const MAX_REIMPORT_RANGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(31 * 24);

/// What an operator asks to re-import: order numbers of one store, or a time range of it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReimportRequest {
    pub store: StoreRef,
    /// Mall order numbers (one or a list).
    #[serde(default)]
    pub mall_order_ids: Option<Vec<String>>,
    /// Or every order of the store ordered in `[from, to]`.
    #[serde(default)]
    pub from: Option<JstInstant>,
    #[serde(default)]
    pub to: Option<JstInstant>,
}

/// The adapters the request side talks through.
#[derive(Clone, Copy)]
pub struct RequestDesk<'a> {
    pub configs: &'a dyn StoreConfigs,
    pub failed_imports: &'a dyn FailedImportStore,
    pub queue: &'a dyn ImportRequests,
    pub clock: &'a dyn Clock,
}

fn check_mall_order_id(field: &str, id: &str) -> Result<(), OperatorError> {
    let ok =
        !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_graphic() && c != '#');
    if ok {
        Ok(())
    } else {
        Err(OperatorError::invalid(
            field,
            "must be 1 to 100 printable ASCII characters",
        ))
    }
}

async fn known_store(desk: RequestDesk<'_>, store: &StoreRef) -> Result<(), OperatorError> {
    match desk.configs.get_store_config(store).await? {
        Some(_) => Ok(()),
        None => Err(OperatorError::UnknownStore(store.to_string())),
    }
}

impl ReimportRequest {
    /// The import command this request becomes.
    fn command(&self, now: JstInstant) -> Result<ImportCommand, OperatorError> {
        let request = match (&self.mall_order_ids, self.from, self.to) {
            (Some(ids), None, None) => {
                if ids.is_empty() || ids.len() > MAX_REIMPORT_ORDERS {
                    return Err(OperatorError::invalid(
                        "mall_order_ids",
                        format!("must hold 1 to {MAX_REIMPORT_ORDERS} order numbers"),
                    ));
                }
                for (i, id) in ids.iter().enumerate() {
                    check_mall_order_id(&format!("mall_order_ids[{i}]"), id)?;
                }
                ImportRequest::Orders {
                    mall_order_ids: ids.clone(),
                    reimport: true,
                }
            }
            (None, Some(from), Some(to)) => {
                if from >= to {
                    return Err(OperatorError::invalid("to", "must be after from"));
                }
                if to > now {
                    return Err(OperatorError::invalid("to", "must not be in the future"));
                }
                if to.duration_since(from) > MAX_REIMPORT_RANGE {
                    return Err(OperatorError::invalid(
                        "from",
                        "the range may span at most 31 days",
                    ));
                }
                ImportRequest::Range { from, to }
            }
            _ => {
                return Err(OperatorError::invalid(
                    "body",
                    "give either mall_order_ids, or both from and to",
                ));
            }
        };
        Ok(ImportCommand {
            store: self.store.clone(),
            request,
            sent_at: Some(now.to_string()),
        })
    }
}

/// Queues a re-import; answers with the command queued.
pub async fn request_reimport(
    desk: RequestDesk<'_>,
    request: &ReimportRequest,
) -> Result<ImportCommand, OperatorError> {
    let command = request.command(desk.clock.now())?;
    known_store(desk, &request.store).await?;
    desk.queue.enqueue(std::slice::from_ref(&command)).await?;
    Ok(command)
}

/// The quarantine: every store's failed imports (or one store's), oldest first per store.
pub async fn failed_imports(
    desk: RequestDesk<'_>,
    store: Option<&StoreRef>,
) -> Result<Vec<FailedImport>, OperatorError> {
    let stores = match store {
        Some(store) => {
            known_store(desk, store).await?;
            vec![store.clone()]
        }
        None => desk
            .configs
            .list_store_configs()
            .await?
            .into_iter()
            .map(|c| c.store)
            .collect(),
    };
    let mut all = Vec::new();
    for store in &stores {
        all.extend(desk.failed_imports.failed_imports(store).await?);
    }
    Ok(all)
}

/// Queues one quarantined order for import now (an `orders` request retries it whatever its
/// backoff says); it leaves the quarantine when it imports.
pub async fn retry_failed_import(
    desk: RequestDesk<'_>,
    store: &StoreRef,
    mall_order_id: &str,
) -> Result<ImportCommand, OperatorError> {
    check_mall_order_id("mall_order_id", mall_order_id)?;
    known_store(desk, store).await?;
    let quarantined = desk.failed_imports.failed_imports(store).await?;
    if !quarantined.iter().any(|f| f.mall_order_id == mall_order_id) {
        return Err(OperatorError::FailedImportNotFound {
            store: store.to_string(),
            mall_order_id: mall_order_id.to_owned(),
        });
    }
    let command = ImportCommand {
        store: store.clone(),
        request: ImportRequest::Orders {
            mall_order_ids: vec![mall_order_id.to_owned()],
            reimport: false,
        },
        sent_at: Some(desk.clock.now().to_string()),
    };
    desk.queue.enqueue(std::slice::from_ref(&command)).await?;
    Ok(command)
}
