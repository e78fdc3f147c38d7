//! What the shop's people and systems do to the order book: the work behind the shop API and
//! the operator's CLI verbs. Every change goes through the order's version (optimistic
//! concurrency) and the status machine, and leaves a history entry naming who and why.
//!
//! - [`listing`]: list and search orders from the time-ordered indexes, with a cursor;
//! - this module: one order's holds, operator edits and shipment report;
//! - [`requests`]: re-import requests and the quarantine of failed imports;
//! - [`stores`]: how each store's imports are going;
//! - [`writes`]: mall writes the mall refused for good, and sending one again.

pub mod listing;
pub mod requests;
pub mod stores;
pub mod writes;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize};

pub use self::listing::{
    BadCursor, OrderCursor, OrderFilter, OrderPage, OrderSummary, list_orders, list_position,
};
use crate::hold::{Hold, HoldKind};
use crate::import::merge::editable;
use crate::order::{Address, HistoryEntry, OperatorNote, Order, OrderId, ShipmentReport, TimeSlot};
use crate::ports::{Clock, OrderStore, QueueFailure, StoreError};
use crate::status::{OrderStatus, StatusEvent, SyncState};
use crate::time::JstInstant;

/// How often a change without a caller's version is re-read and re-applied after losing a
/// race with another writer.
const CONFLICT_RETRIES: usize = 5;

/// Why an operator's request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("order {0} not found")]
    OrderNotFound(OrderId),
    #[error("store {0} is not one of the shop's stores")]
    UnknownStore(String),
    #[error("failed import {mall_order_id} of {store} not found")]
    FailedImportNotFound {
        store: String,
        mall_order_id: String,
    },
    #[error("order {id} is at version {current}, not {given}: read it again and redo the change")]
    StaleVersion {
        id: OrderId,
        given: u64,
        current: u64,
    },
    #[error("order {id} is {current}: it cannot be {action}")]
    NotAllowed {
        id: OrderId,
        current: OrderStatus,
        action: &'static str,
    },
    #[error(
        "order {id}'s mall write is {}: only a write the mall refused for good can be retried",
        writes::describe(state)
    )]
    WriteNotFailed { id: OrderId, state: SyncState },
    #[error("order {id} has no {what}")]
    NoSuchHold { id: OrderId, what: String },
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueFailure),
}

impl OperatorError {
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        OperatorError::Invalid {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// The adapters one operator action talks through.
#[derive(Clone, Copy)]
pub struct OrderDesk<'a> {
    pub orders: &'a dyn OrderStore,
    pub clock: &'a dyn Clock,
}

/// Who did something, in words an operator recognises (a name, or a system's id).
fn check_actor(by: &str) -> Result<(), OperatorError> {
    check_text("by", by, 100)
}

fn check_text(field: &str, text: &str, max_chars: usize) -> Result<(), OperatorError> {
    if text.trim().is_empty() {
        return Err(OperatorError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(OperatorError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(OperatorError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// One order, as stored.
pub async fn get_order(desk: OrderDesk<'_>, id: &OrderId) -> Result<Order, OperatorError> {
    desk.orders
        .get_order(id)
        .await?
        .ok_or_else(|| OperatorError::OrderNotFound(id.clone()))
}

/// One order as people see it (shop API, CLI): everything but the buyer's contact data and
/// the mall's raw payload; the ship-to destinations stay, as this view is for shipping it.
pub fn order_view(order: &Order) -> serde_json::Value {
    let mut value = serde_json::to_value(order).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("raw");
        map.remove("buyer");
    }
    value
}

/// Reads the order, applies `change` and stores it under the version it was read at.
///
/// With `expected_version` the caller decides on what it saw: a different stored version is
/// [`OperatorError::StaleVersion`] carrying the current one. Without it, a lost race is
/// retried on a fresh read (the change is re-checked against the new state).
async fn change_order(
    desk: OrderDesk<'_>,
    id: &OrderId,
    expected_version: Option<u64>,
    change: impl Fn(&mut Order, JstInstant) -> Result<(), OperatorError>,
) -> Result<Order, OperatorError> {
    let mut attempt = 0;
    loop {
        let stored = get_order(desk, id).await?;
        if let Some(given) = expected_version
            && given != stored.version
        {
            return Err(OperatorError::StaleVersion {
                id: id.clone(),
                given,
                current: stored.version,
            });
        }
        let now = desk.clock.now();
        let mut order = stored.clone();
        change(&mut order, now)?;
        order.version = stored.version + 1;
        order.updated_at = now;
        match desk.orders.update_order(&order, stored.version).await {
            Ok(()) => return Ok(order),
            Err(StoreError::Conflict { .. }) if expected_version.is_none() => {
                attempt += 1;
                if attempt >= CONFLICT_RETRIES {
                    return Err(StoreError::Conflict {
                        what: format!("order {id}"),
                        expected: stored.version.to_string(),
                    }
                    .into());
                }
            }
            Err(StoreError::Conflict { .. }) => {
                let current = get_order(desk, id).await?.version;
                return Err(OperatorError::StaleVersion {
                    id: id.clone(),
                    given: stored.version,
                    current,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn history(at: JstInstant, event: &str, changes: Vec<String>) -> HistoryEntry {
    HistoryEntry {
        at,
        event: event.to_owned(),
        changes,
    }
}

/// Clearing one kind of hold (or every hold) from an order.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClearHold {
    /// Who cleared it.
    pub by: String,
    /// Why it may go on (recorded in the history).
    pub reason: String,
    /// Which kind of hold; all of them when absent.
    #[serde(default)]
    pub kind: Option<HoldKind>,
    /// The version the operator looked at; the current one when absent.
    #[serde(default)]
    pub version: Option<u64>,
}

/// History event of a cleared hold.
pub const HOLD_CLEARED: &str = "hold_cleared";
/// History event of a hold a person placed.
pub const HOLD_PLACED: &str = "hold_placed";
/// History event of an operator's edit.
pub const EDITED: &str = "edited";
/// History event of a reported shipment.
pub const SHIPPED: &str = "shipped";

/// Clears holds: recorded in the history with who and why; an order left without holds
/// returns to the payment track through the status machine.
pub async fn clear_hold(
    desk: OrderDesk<'_>,
    id: &OrderId,
    request: &ClearHold,
) -> Result<Order, OperatorError> {
    check_actor(&request.by)?;
    check_text("reason", &request.reason, 500)?;
    change_order(desk, id, request.version, |order, now| {
        let cleared: Vec<Hold> = order
            .holds
            .iter()
            .filter(|h| request.kind.is_none_or(|kind| h.kind == kind))
            .cloned()
            .collect();
        if cleared.is_empty() {
            return Err(OperatorError::NoSuchHold {
                id: order.id.clone(),
                what: match request.kind {
                    Some(kind) => format!("{kind} hold"),
                    None => "hold".to_owned(),
                },
            });
        }
        order
            .holds
            .retain(|h| request.kind.is_some_and(|kind| h.kind != kind));
        if order.holds.is_empty() && order.status == OrderStatus::OnHold {
            order
                .apply(StatusEvent::HoldsCleared {
                    awaits_payment: order.payment.awaits_payment(),
                })
                .map_err(|e| not_allowed(order, e.from, "released from hold"))?;
        }
        let changes = cleared
            .iter()
            .map(|h| format!("{} cleared by {}: {}", h.kind, request.by, request.reason))
            .collect();
        order.history.push(history(now, HOLD_CLEARED, changes));
        Ok(())
    })
    .await
}

fn not_allowed(order: &Order, current: OrderStatus, action: &'static str) -> OperatorError {
    OperatorError::NotAllowed {
        id: order.id.clone(),
        current,
        action,
    }
}

/// A person putting an order on hold.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceHold {
    pub by: String,
    pub reason: String,
    #[serde(default)]
    pub version: Option<u64>,
}

/// Puts an order on hold (only before shipment: the status machine decides).
pub async fn place_hold(
    desk: OrderDesk<'_>,
    id: &OrderId,
    request: &PlaceHold,
) -> Result<Order, OperatorError> {
    check_actor(&request.by)?;
    check_text("reason", &request.reason, 500)?;
    change_order(desk, id, request.version, |order, now| {
        let current = order.status;
        order
            .place_hold(Hold::by_operator(request.reason.clone()))
            .map_err(|_| not_allowed(order, current, "put on hold"))?;
        order.history.push(history(
            now,
            HOLD_PLACED,
            vec![format!("manual hold by {}: {}", request.by, request.reason)],
        ));
        Ok(())
    })
    .await
}

/// Corrections to one ship-to destination; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShipToCorrection {
    /// Which destination (0-based); the first when absent.
    #[serde(default)]
    pub destination: usize,
    #[serde(default)]
    pub recipient_name: Option<String>,
    #[serde(default)]
    pub recipient_kana: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
}

/// What an operator may edit, against the version they read. Absent fields stay; `null`
/// clears the desired date or slot.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEdit {
    pub version: u64,
    pub by: String,
    #[serde(default)]
    pub ship_to: Option<ShipToCorrection>,
    /// A note to add to the order's operator notes.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub desired_date: Option<Option<Date>>,
    /// Our slot (`08-12`, `14-16`, `19-21` …).
    #[serde(default, deserialize_with = "present")]
    pub time_slot: Option<Option<String>>,
}

/// `Some(value)` for a field that is present (even as `null`), `None` (via `default`) for one
/// that is absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `HH-HH` with hours 0–24 and start before end.
fn check_time_slot(slot: &str) -> Result<(), OperatorError> {
    let hours = slot
        .split_once('-')
        .filter(|(a, b)| a.len() == 2 && b.len() == 2)
        .and_then(|(a, b)| Some((a.parse::<u8>().ok()?, b.parse::<u8>().ok()?)));
    match hours {
        Some((start, end)) if start < end && end <= 24 => Ok(()),
        _ => Err(OperatorError::invalid(
            "time_slot",
            format!("{slot:?} is not a slot like \"14-16\""),
        )),
    }
}

fn check_optional(field: &str, value: &Option<String>, max: usize) -> Result<(), OperatorError> {
    value
        .as_deref()
        .map_or(Ok(()), |text| check_text(field, text, max))
}

impl OrderEdit {
    fn check(&self) -> Result<(), OperatorError> {
        check_actor(&self.by)?;
        check_optional("note", &self.note, 2000)?;
        if let Some(Some(slot)) = &self.time_slot {
            check_time_slot(slot)?;
        }
        if let Some(ship_to) = &self.ship_to {
            check_optional("ship_to.recipient_name", &ship_to.recipient_name, 100)?;
            check_optional("ship_to.recipient_kana", &ship_to.recipient_kana, 100)?;
            if let Some(phone) = &ship_to.phone {
                let digits = phone.chars().filter(char::is_ascii_digit).count();
                let allowed = phone.chars().all(|c| c.is_ascii_digit() || c == '-');
                if !allowed || !(10..=11).contains(&digits) {
                    return Err(OperatorError::invalid(
                        "ship_to.phone",
                        "must be a Japanese phone number: 10 or 11 digits, hyphens allowed",
                    ));
                }
            }
            if let Some(address) = &ship_to.address {
                let postcode_ok = address.postcode.len() == 7
                    && address.postcode.chars().all(|c| c.is_ascii_digit())
                    || address.postcode.len() == 8
                        && address
                            .postcode
                            .chars()
                            .enumerate()
                            .all(|(i, c)| if i == 3 { c == '-' } else { c.is_ascii_digit() });
                if !postcode_ok {
                    return Err(OperatorError::invalid(
                        "ship_to.address.postcode",
                        "must be seven digits (1000001 or 100-0001)",
                    ));
                }
                check_text("ship_to.address.prefecture", &address.prefecture, 10)?;
                check_text("ship_to.address.city", &address.city, 100)?;
                check_text("ship_to.address.street", &address.street, 200)?;
            }
        }
        let nothing = self.ship_to.is_none()
            && self.note.is_none()
            && self.desired_date.is_none()
            && self.time_slot.is_none();
        if nothing {
            return Err(OperatorError::invalid(
                "body",
                "names nothing to edit (ship_to, note, desired_date, time_slot)",
            ));
        }
        Ok(())
    }
}

/// Applies an operator's edit if the order is still at the version they read. Ship-to, date
/// and slot edits are only possible before shipment; a re-import keeps every edited field.
/// The history names the fields changed, never the personal data itself.
pub async fn edit_order(
    desk: OrderDesk<'_>,
    id: &OrderId,
    edit: &OrderEdit,
) -> Result<Order, OperatorError> {
    edit.check()?;
    change_order(desk, id, Some(edit.version), |order, now| {
        let mut changes = Vec::new();
        let changes_delivery =
            edit.ship_to.is_some() || edit.desired_date.is_some() || edit.time_slot.is_some();
        if changes_delivery && !order.status.is_before_shipment() {
            return Err(not_allowed(
                order,
                order.status,
                "re-addressed or rescheduled",
            ));
        }
        if let Some(ship_to) = &edit.ship_to {
            let count = order.destinations.len();
            let destination = order
                .destinations
                .get_mut(ship_to.destination)
                .ok_or_else(|| {
                    OperatorError::invalid(
                        "ship_to.destination",
                        format!("the order has {count} destination(s)"),
                    )
                })?;
            let index = ship_to.destination;
            if let Some(name) = &ship_to.recipient_name {
                destination.recipient_name = name.clone();
                changes.push(format!("destinations[{index}].recipient_name corrected"));
            }
            if let Some(kana) = &ship_to.recipient_kana {
                destination.recipient_kana = Some(kana.clone());
                changes.push(format!("destinations[{index}].recipient_kana corrected"));
            }
            if let Some(phone) = &ship_to.phone {
                destination.phone = Some(phone.clone());
                changes.push(format!("destinations[{index}].phone corrected"));
            }
            if let Some(address) = &ship_to.address {
                destination.address = address.clone();
                changes.push(format!("destinations[{index}].address corrected"));
            }
            order
                .operator
                .edited_fields
                .insert(editable::DESTINATIONS.to_owned());
        }
        if let Some(date) = edit.desired_date {
            let before = order.delivery.desired_date;
            order.delivery.desired_date = date;
            changes.push(format!(
                "delivery.desired_date: {} → {}",
                show(before),
                show(date)
            ));
            order
                .operator
                .edited_fields
                .insert(editable::DESIRED_DATE.to_owned());
        }
        if let Some(slot) = &edit.time_slot {
            let before = order
                .delivery
                .time_slot
                .as_ref()
                .and_then(|s| s.mapped.clone());
            order.delivery.time_slot = slot.as_ref().map(|slot| TimeSlot {
                raw: slot.clone(),
                mapped: Some(slot.clone()),
            });
            changes.push(format!(
                "delivery.time_slot: {} → {}",
                show(before),
                show(slot.clone())
            ));
            order
                .operator
                .edited_fields
                .insert(editable::TIME_SLOT.to_owned());
        }
        if let Some(text) = &edit.note {
            order.operator.notes.push(OperatorNote {
                at: now,
                by: edit.by.clone(),
                text: text.clone(),
            });
            changes.push("operator note added".to_owned());
        }
        let mut entry = history(now, EDITED, changes);
        entry.changes.push(format!("by {}", edit.by));
        order.history.push(entry);
        Ok(())
    })
    .await
}

fn show<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// A shipment the warehouse reports: the order moves to shipped through the status machine.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_numbers: Vec<String>,
    pub shipped_on: Date,
    pub by: String,
    #[serde(default)]
    pub version: Option<u64>,
}

impl Shipment {
    fn check(&self, today: Date) -> Result<(), OperatorError> {
        check_actor(&self.by)?;
        check_text("carrier", &self.carrier, 40)?;
        if self.tracking_numbers.is_empty() || self.tracking_numbers.len() > 20 {
            return Err(OperatorError::invalid(
                "tracking_numbers",
                "must hold 1 to 20 tracking numbers",
            ));
        }
        for (i, number) in self.tracking_numbers.iter().enumerate() {
            let ok = (4..=40).contains(&number.len())
                && number
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(OperatorError::invalid(
                    format!("tracking_numbers[{i}]"),
                    "must be 4 to 40 ASCII letters, digits or hyphens",
                ));
            }
        }
        if self.shipped_on > today {
            return Err(OperatorError::invalid(
                "shipped_on",
                format!("{} is after today ({today} JST)", self.shipped_on),
            ));
        }
        Ok(())
    }
}

/// Records a shipment on an order (or one part of a split order, which has its own id) and
/// moves it to shipped. An order that is not ready to ship is refused with its status.
pub async fn report_shipment(
    desk: OrderDesk<'_>,
    id: &OrderId,
    shipment: &Shipment,
) -> Result<Order, OperatorError> {
    shipment.check(desk.clock.now().date())?;
    change_order(desk, id, shipment.version, |order, now| {
        let current = order.status;
        order
            .apply(StatusEvent::Shipped)
            .map_err(|_| not_allowed(order, current, "shipped"))?;
        order.operator.shipments.push(ShipmentReport {
            carrier: shipment.carrier.clone(),
            tracking_numbers: shipment.tracking_numbers.clone(),
            shipped_on: shipment.shipped_on,
            reported_at: now,
            reported_by: shipment.by.clone(),
        });
        order.history.push(history(
            now,
            SHIPPED,
            vec![format!(
                "shipped on {} by {} with {} tracking number(s), reported by {}",
                shipment.shipped_on,
                shipment.carrier,
                shipment.tracking_numbers.len(),
                shipment.by
            )],
        ));
        Ok(())
    })
    .await
}

#[cfg(test)]
pub(crate) mod tests;
