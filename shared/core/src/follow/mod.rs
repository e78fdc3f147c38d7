//! The order book follows the mall after import: payments, cancellations of the whole order
//! or of some lines, cancel requests and their withdrawal, and the changes ichigen does not
//! apply on its own.
//!
//! [`follow_mall`] compares a stored order with the mall's current data, normalised as at
//! import, and says what to store. The rules, as the peers (NextEngine, GoQSystem) follow them:
//! - **Paid**: an order awaiting payment that the mall now reports paid moves to
//!   `ready_to_ship`; a held order stays held and leaves its hold ready to ship.
//! - **Cancelled** on the mall: our order is cancelled if it has not shipped. One already
//!   shipped keeps its status and gets a hold: a person handles the refund or return.
//! - **Lines cancelled** (gone from the mall's order, or fewer of them): the mall's lines and
//!   totals are taken and the history names each line. No line left: cancelled.
//! - **Holds that mirror the mall's state** (a cancel request, a mall status that says not to
//!   ship) come and go with it: a withdrawn request releases its hold. Every other hold waits
//!   for a person; one the fresh data brings is added only when the mall changed the lines or
//!   amounts, so a hold a person cleared does not come back on every sync.
//! - **Not applied**: a new payment method and lines added on the mall are recorded as
//!   "changed on the mall, not applied" with a hold (the stored payment and lines stay until a
//!   person re-imports); a new shipping method is recorded only (the mapped carrier stays).
//!
//! Nothing changed that the order book tracks: `None`, so an unchanged order is not written.

use std::collections::HashMap;

use crate::hold::{Hold, HoldKind, HoldSource};
use crate::import::merge::{describe_changes, keep_ours, merge_mall_data};
use crate::order::{HistoryEntry, Order};
use crate::status::{OrderStatus, StatusEvent};
use crate::time::JstInstant;

/// History event: the mall changed the order and the order book followed.
pub const CHANGED_ON_MALL: &str = "changed_on_mall";
/// History event: the mall changed something ichigen does not apply on its own.
pub const NOT_APPLIED: &str = "changed_on_mall_not_applied";

/// Hold kinds that mirror the mall's own state: they come and go with the mall's data.
const MIRRORED: [HoldKind; 2] = [HoldKind::CancelRequested, HoldKind::MallStatus];

/// What following the mall did to one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MallChange {
    Paid,
    Cancelled,
    /// The mall cancelled an order that has shipped: held for a person.
    CancelledAfterShipment,
    /// These lines (described) were cancelled on the mall.
    LinesCancelled(Vec<String>),
    CancelRequested,
    CancelWithdrawn,
    /// Recorded and (where it matters) held, not applied.
    NotApplied(Vec<String>),
    /// Other mall data moved (mall status, amounts, addresses …).
    Refreshed,
}

/// The order to store and what happened to it.
#[derive(Clone, Debug)]
pub struct Followed {
    pub order: Order,
    pub changes: Vec<MallChange>,
}

/// The stored order after the mall's current data (`fresh`, normalised as at import); see the
/// module documentation. `None` when nothing the order book tracks changed, or the stored
/// order is cancelled already.
pub fn follow_mall(stored: &Order, fresh: Order, now: JstInstant) -> Option<Followed> {
    if stored.status == OrderStatus::Cancelled {
        return None;
    }
    let shipped = !stored.status.is_before_shipment();
    let fresh_cancelled = fresh.status == OrderStatus::Cancelled;
    let fresh_awaits_payment =
        fresh.status == OrderStatus::AwaitingPayment || fresh.payment.awaits_payment();
    let fresh_holds = fresh.holds.clone();
    let lines = LineChanges::between(stored, &fresh);

    let mut merged = merge_mall_data(stored, fresh);
    let mut changes = Vec::new();
    let mut entries: Vec<(&str, Vec<String>)> = Vec::new();
    let mut holds = stored.holds.clone();

    // What ichigen does not apply on its own.
    let mut not_applied = Vec::new();
    let mut hold_for = Vec::new();
    let payment_changed = !stored.payment.mall_method_code.is_empty()
        && (stored.payment.method != merged.payment.method
            || stored.payment.mall_method_code != merged.payment.mall_method_code);
    if payment_changed {
        let change = format!(
            "payment method {} → {}",
            quoted(&stored.payment.mall_method_name),
            quoted(&merged.payment.mall_method_name)
        );
        merged.payment = stored.payment.clone();
        not_applied.push(change.clone());
        hold_for.push(change);
    }
    if !stored.delivery.mall_method_name.is_empty()
        && stored.delivery.mall_method_name != merged.delivery.mall_method_name
    {
        not_applied.push(format!(
            "shipping method {} → {} (the carrier stays {})",
            quoted(&stored.delivery.mall_method_name),
            quoted(&merged.delivery.mall_method_name),
            stored.delivery.carrier.as_deref().unwrap_or("unmapped"),
        ));
        merged.delivery.mall_method_name = stored.delivery.mall_method_name.clone();
    }
    let keep_stored_lines = !fresh_cancelled && (!lines.added.is_empty() || shipped);
    if !fresh_cancelled && !lines.added.is_empty() {
        let change = format!("lines added on the mall: {}", lines.added.join(", "));
        not_applied.push(change.clone());
        hold_for.push(change);
    }
    if keep_stored_lines {
        merged.destinations = stored.destinations.clone();
        merged.amounts = stored.amounts.clone();
    }
    if !hold_for.is_empty() {
        holds.push(Hold::new(
            HoldKind::ChangedOnMall,
            None,
            format!(
                "changed on the mall, not applied: {}; check it, then re-import the order to take \
                 the mall's version or clear this hold to keep ours",
                hold_for.join("; ")
            ),
        ));
    }
    if !not_applied.is_empty() {
        entries.push((NOT_APPLIED, not_applied.clone()));
        changes.push(MallChange::NotApplied(not_applied));
    }

    let mut status = stored.status;
    let no_lines_left = !keep_stored_lines && merged.lines().next().is_none();
    if fresh_cancelled || no_lines_left {
        if shipped {
            holds.push(Hold::new(
                HoldKind::ChangedOnMall,
                None,
                format!(
                    "the mall cancelled this order after it was {}: handle the refund or return",
                    stored.status
                ),
            ));
            entries.push((
                "cancelled_on_mall",
                vec![format!(
                    "the mall cancelled the order; it is {} (held)",
                    stored.status
                )],
            ));
            changes.push(MallChange::CancelledAfterShipment);
        } else {
            entries.push((
                "cancelled_on_mall",
                vec![format!("status: {} → cancelled", stored.status)],
            ));
            changes.push(MallChange::Cancelled);
            status = OrderStatus::Cancelled;
        }
    } else {
        if !lines.reduced.is_empty() {
            if shipped {
                holds.push(Hold::new(
                    HoldKind::ChangedOnMall,
                    None,
                    format!(
                        "lines cancelled on the mall after the order was {}: {}",
                        stored.status,
                        lines.reduced.join(", ")
                    ),
                ));
            } else if lines.added.is_empty() {
                let mut described = lines.reduced.clone();
                described.push(format!(
                    "amounts.billed: {} → {}",
                    stored.amounts.billed, merged.amounts.billed
                ));
                entries.push(("lines_cancelled_on_mall", described));
            }
            changes.push(MallChange::LinesCancelled(lines.reduced.clone()));
        }
        follow_mirrored_holds(&mut holds, &fresh_holds, &mut entries, &mut changes);
        // A data hold the fresh order brings (totals, SKU …) is about what the mall changed.
        if lines.any() && !keep_stored_lines {
            for hold in fresh_holds.iter().filter(|h| !MIRRORED.contains(&h.kind)) {
                if !holds
                    .iter()
                    .any(|h| h.kind == hold.kind && h.field == hold.field)
                {
                    holds.push(hold.clone());
                }
            }
        }
        let stored_awaits_payment = stored.status == OrderStatus::AwaitingPayment
            || (stored.status == OrderStatus::OnHold && stored.payment.awaits_payment());
        let paid = stored_awaits_payment && !fresh_awaits_payment && !payment_changed;
        if paid {
            if merged.payment.paid_at.is_none() {
                merged.payment.paid_at = Some(now);
            }
            let when = merged
                .payment
                .paid_at
                .map(|at| at.to_string())
                .unwrap_or_default();
            entries.push(("paid_on_mall", vec![format!("paid at {when}")]));
            changes.push(MallChange::Paid);
            if status == OrderStatus::AwaitingPayment {
                status = OrderStatus::ReadyToShip;
            }
        }
        let awaits_payment = !paid && stored_awaits_payment;
        status = place(status, !holds.is_empty(), awaits_payment);
    }

    let mut followed = Order {
        status,
        holds,
        history: stored.history.clone(),
        ..keep_ours(stored, merged, now)
    };
    let field_changes = describe_changes(stored, &followed);
    if field_changes.is_empty() && changes.is_empty() {
        return None;
    }
    if changes.is_empty() {
        changes.push(MallChange::Refreshed);
    }
    let mut history = vec![HistoryEntry {
        at: now,
        event: CHANGED_ON_MALL.into(),
        changes: field_changes,
    }];
    history.extend(entries.into_iter().map(|(event, changes)| HistoryEntry {
        at: now,
        event: event.into(),
        changes,
    }));
    followed.history.extend(history);
    Some(Followed {
        order: followed,
        changes,
    })
}

/// Adds the mirrored holds the mall now reports and releases those it no longer does (only
/// ones the import set: a person's hold is never released here).
fn follow_mirrored_holds(
    holds: &mut Vec<Hold>,
    fresh_holds: &[Hold],
    entries: &mut Vec<(&str, Vec<String>)>,
    changes: &mut Vec<MallChange>,
) {
    let same = |a: &Hold, b: &Hold| a.kind == b.kind && a.field == b.field;
    let released: Vec<Hold> = holds
        .iter()
        .filter(|h| {
            MIRRORED.contains(&h.kind)
                && h.source == HoldSource::Import
                && !fresh_holds.iter().any(|f| same(f, h))
        })
        .cloned()
        .collect();
    let added: Vec<Hold> = fresh_holds
        .iter()
        .filter(|f| MIRRORED.contains(&f.kind) && !holds.iter().any(|h| same(f, h)))
        .cloned()
        .collect();
    holds.retain(|h| !released.iter().any(|r| same(r, h)));
    for hold in &released {
        if hold.kind == HoldKind::CancelRequested {
            changes.push(MallChange::CancelWithdrawn);
        }
    }
    if !released.is_empty() {
        entries.push((
            "mall_hold_released",
            released
                .iter()
                .map(|h| format!("holds: − {} (the mall no longer reports it)", h.kind))
                .collect(),
        ));
    }
    for hold in &added {
        if hold.kind == HoldKind::CancelRequested {
            changes.push(MallChange::CancelRequested);
        }
    }
    if !added.is_empty() {
        entries.push((
            "mall_hold_added",
            added.iter().map(|h| format!("holds: + {h}")).collect(),
        ));
    }
    holds.extend(added);
}

/// Our status after the holds changed: held orders before shipment are on hold, and an order
/// whose last hold went returns to the payment track.
fn place(status: OrderStatus, has_holds: bool, awaits_payment: bool) -> OrderStatus {
    let event = match (status, has_holds) {
        (OrderStatus::AwaitingPayment | OrderStatus::ReadyToShip, true) => StatusEvent::Hold,
        (OrderStatus::OnHold, false) => StatusEvent::HoldsCleared { awaits_payment },
        _ => return status,
    };
    crate::status::transition(status, event).unwrap_or(status)
}

/// How the mall's lines differ from the stored ones, by the mall's line id.
struct LineChanges {
    /// Stored lines the mall no longer has, or has fewer of: `L2 品名 ×2 → ×0`.
    reduced: Vec<String>,
    /// Lines the mall has that the stored order does not (or more of them).
    added: Vec<String>,
}

impl LineChanges {
    fn between(stored: &Order, fresh: &Order) -> Self {
        let quantities = |order: &Order| {
            let mut by_id: HashMap<String, (u32, String)> = HashMap::new();
            for line in order.lines() {
                let entry = by_id
                    .entry(line.mall_line_id.clone())
                    .or_insert((0, line.name.clone()));
                entry.0 += line.quantity;
            }
            by_id
        };
        let (before, after) = (quantities(stored), quantities(fresh));
        let mut reduced = Vec::new();
        let mut added = Vec::new();
        for line in stored.lines() {
            let Some((was, name)) = before.get(&line.mall_line_id) else {
                continue;
            };
            let now = after.get(&line.mall_line_id).map_or(0, |(q, _)| *q);
            let described = format!(
                "line {} {} ×{was} → ×{now}",
                line.mall_line_id,
                quoted(name)
            );
            if now < *was && !reduced.contains(&described) {
                reduced.push(described);
            }
        }
        for line in fresh.lines() {
            let Some((now, name)) = after.get(&line.mall_line_id) else {
                continue;
            };
            let was = before.get(&line.mall_line_id).map_or(0, |(q, _)| *q);
            let described = format!(
                "line {} {} ×{was} → ×{now}",
                line.mall_line_id,
                quoted(name)
            );
            if *now > was && !added.contains(&described) {
                added.push(described);
            }
        }
        Self { reduced, added }
    }

    fn any(&self) -> bool {
        !self.reduced.is_empty() || !self.added.is_empty()
    }
}

fn quoted(text: &str) -> String {
    format!("「{text}」")
}

#[cfg(test)]
mod tests;
