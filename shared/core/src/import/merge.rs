//! Explicit re-import (注文再取込): the stored order refreshed with the mall's current data.
//!
//! The mall's data refreshes the mall's fields (buyer, destinations, lines, amounts, payment,
//! delivery wishes, gift, remarks, mall status, the raw payload). What people and ichigen did
//! stays: holds a person set, every hold already on the order (a re-import never releases a
//! hold on its own), operator notes and edited fields, resolved SKUs, the mapped carrier, the
//! mall sync state, the history and our status (which only moves to on-hold when the fresh
//! data brings a new hold).

use crate::hold::Hold;
use crate::order::{HistoryEntry, Order};
use crate::status::{OrderStatus, StatusEvent};
use crate::time::JstInstant;

/// Fields an operator may edit; a re-import keeps the stored value of each edited one.
pub mod editable {
    pub const DESTINATIONS: &str = "destinations";
    pub const DESIRED_DATE: &str = "delivery.desired_date";
    pub const TIME_SLOT: &str = "delivery.time_slot";
    pub const CARRIER: &str = "delivery.carrier";
}

/// The stored order refreshed with the mall's current data; see the module documentation for
/// what is kept. Adds a history entry listing what changed.
pub fn refresh_from_mall(stored: Order, fresh: Order, now: JstInstant) -> Order {
    let merged = merge_mall_data(&stored, fresh);
    let new_holds: Vec<Hold> = merged
        .holds
        .iter()
        .filter(|fresh_hold| {
            !stored
                .holds
                .iter()
                .any(|h| h.kind == fresh_hold.kind && h.field == fresh_hold.field)
        })
        .cloned()
        .collect();
    let mut status = stored.status;
    if !new_holds.is_empty() && status.is_before_shipment() && status != OrderStatus::OnHold {
        status = crate::status::transition(status, StatusEvent::Hold).unwrap_or(status);
    }
    let mut holds = stored.holds.clone();
    holds.extend(new_holds);
    let mut changes = describe_changes(&stored, &merged);
    if changes.is_empty() {
        changes.push("no changes".into());
    }
    let mut history = stored.history.clone();
    history.push(HistoryEntry {
        at: now,
        event: REIMPORTED.into(),
        changes,
    });
    Order {
        status,
        holds,
        history,
        ..keep_ours(&stored, merged, now)
    }
}

/// History event of an explicit re-import (注文再取込).
pub const REIMPORTED: &str = "reimported";

/// The mall's current data with what is ours kept: edited fields, resolved SKUs, the mapped
/// carrier and a payment already known. Holds, status and history are still the fresh order's:
/// the caller decides those, and [`keep_ours`] puts back the rest.
pub(crate) fn merge_mall_data(stored: &Order, fresh: Order) -> Order {
    let edited = |field: &str| stored.operator.edited_fields.contains(field);
    let mut merged = fresh;
    if edited(editable::DESTINATIONS) {
        merged.destinations = stored.destinations.clone();
    } else {
        keep_resolved_skus(stored, &mut merged);
    }
    if edited(editable::DESIRED_DATE) {
        merged.delivery.desired_date = stored.delivery.desired_date;
    }
    if edited(editable::TIME_SLOT) {
        merged.delivery.time_slot = stored.delivery.time_slot.clone();
    }
    if stored.delivery.carrier.is_some() || edited(editable::CARRIER) {
        merged.delivery.carrier = stored.delivery.carrier.clone();
    }
    // A payment the order book already knows is not forgotten because the mall's copy is late.
    if merged.payment.paid_at.is_none() {
        merged.payment.paid_at = stored.payment.paid_at;
    }
    merged
}

/// `merged` with what only ichigen knows put back from `stored`: people's work, the mall sync
/// state, the import time, and the next version.
pub(crate) fn keep_ours(stored: &Order, merged: Order, now: JstInstant) -> Order {
    Order {
        operator: stored.operator.clone(),
        mall_sync: stored.mall_sync.clone(),
        imported_at: stored.imported_at,
        version: stored.version + 1,
        updated_at: now,
        ..merged
    }
}

/// Lines the mall sends again keep the internal SKU ichigen resolved for them.
fn keep_resolved_skus(stored: &Order, merged: &mut Order) {
    for line in merged
        .destinations
        .iter_mut()
        .flat_map(|d| d.lines.iter_mut())
    {
        if line.sku.is_none()
            && let Some(old) = stored.lines().find(|l| l.mall_line_id == line.mall_line_id)
        {
            line.sku = old.sku.clone();
        }
    }
}

/// What differs between two versions of an order, in words an operator can read (empty when
/// nothing an operator tracks changed). Personal data is named, never shown.
pub(crate) fn describe_changes(old: &Order, new: &Order) -> Vec<String> {
    let mut changes = Vec::new();
    let mut compare = |field: &str, before: String, after: String| {
        let shown = |value: String| {
            if value.is_empty() {
                "none".to_owned()
            } else {
                value
            }
        };
        if before != after {
            changes.push(format!("{field}: {} → {}", shown(before), shown(after)));
        }
    };
    compare(
        "mall_status",
        old.mall_status.code.clone(),
        new.mall_status.code.clone(),
    );
    let (a, b) = (&old.amounts, &new.amounts);
    for (field, before, after) in [
        ("amounts.goods", a.goods, b.goods),
        ("amounts.shipping", a.shipping, b.shipping),
        ("amounts.cod_fee", a.cod_fee, b.cod_fee),
        ("amounts.payment_fee", a.payment_fee, b.payment_fee),
        ("amounts.gift_wrapping", a.gift_wrapping, b.gift_wrapping),
        ("amounts.coupons", a.coupons, b.coupons),
        ("amounts.points", a.points, b.points),
        ("amounts.total", a.total, b.total),
        ("amounts.billed", a.billed, b.billed),
    ] {
        compare(field, before.to_string(), after.to_string());
    }
    compare(
        "payment.method",
        format!("{:?}", old.payment.method),
        format!("{:?}", new.payment.method),
    );
    let paid_at = |o: &Order| {
        o.payment
            .paid_at
            .map(|at| at.to_string())
            .unwrap_or_default()
    };
    compare("payment.paid_at", paid_at(old), paid_at(new));
    compare(
        "delivery.method",
        old.delivery.mall_method_name.clone(),
        new.delivery.mall_method_name.clone(),
    );
    compare(
        "destinations",
        old.destinations.len().to_string(),
        new.destinations.len().to_string(),
    );
    let quantities = |o: &Order| {
        o.lines()
            .map(|l| format!("{}×{}", l.mall_line_id, l.quantity))
            .collect::<Vec<_>>()
            .join(",")
    };
    compare("lines", quantities(old), quantities(new));
    compare(
        "delivery.desired_date",
        old.delivery
            .desired_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        new.delivery
            .desired_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let hold_kinds = |o: &Order| {
        o.holds
            .iter()
            .map(|h| h.kind.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    compare("holds", hold_kinds(old), hold_kinds(new));
    if old.buyer != new.buyer {
        changes.push("buyer details changed".into());
    }
    if old
        .destinations
        .iter()
        .map(|d| (&d.recipient_name, &d.address, &d.phone))
        .ne(new
            .destinations
            .iter()
            .map(|d| (&d.recipient_name, &d.address, &d.phone)))
    {
        changes.push("ship-to details changed".into());
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hold::HoldKind;
    use crate::order::{
        Amounts, Buyer, Delivery, Destination, Gift, MallId, MallStatus, OperatorNote, OrderId,
        OrderLine, Payment, PaymentMethod, RawPayload, StoreRef,
    };
    use crate::status::MallSync;

    fn at(s: &str) -> JstInstant {
        s.parse().unwrap()
    }

    fn order(billed: i64, status: OrderStatus) -> Order {
        let store = StoreRef::new(MallId::Rakuten, "store-a");
        let now = at("2026-11-22T10:00:00+09:00");
        Order {
            id: OrderId::new(&store, "1-20261122-1"),
            store,
            mall_order_id: "1-20261122-1".into(),
            ordered_at: now,
            buyer: Buyer {
                name: "山田 花子".into(),
                ..Buyer::default()
            },
            destinations: vec![],
            amounts: Amounts {
                total: billed,
                billed,
                ..Amounts::default()
            },
            payment: Payment {
                method: PaymentMethod::CreditCard,
                mall_method_code: "1".into(),
                mall_method_name: "クレジットカード".into(),
                paid_at: None,
                due_date: None,
            },
            delivery: Delivery::default(),
            gift: Gift::default(),
            notes: None,
            mall_status: MallStatus {
                code: "100".into(),
                label: "注文確認待ち".into(),
            },
            status,
            holds: vec![],
            mall_sync: MallSync::idle(),
            history: vec![],
            operator: Default::default(),
            version: 3,
            imported_at: now,
            updated_at: now,
            raw: RawPayload {
                content_type: "application/json".into(),
                body: "{}".into(),
            },
        }
    }

    #[test]
    fn reimport_refreshes_mall_data_and_keeps_ours() {
        let now = at("2026-11-23T10:00:00+09:00");
        let mut stored = order(3300, OrderStatus::ReadyToShip);
        stored.mall_sync = MallSync::pending("confirmOrder", stored.imported_at);
        let mut fresh = order(3200, OrderStatus::Imported);
        fresh.buyer.name = "山田 太郎".into();
        fresh.mall_status.code = "300".into();
        let refreshed = refresh_from_mall(stored.clone(), fresh, now);
        assert_eq!(refreshed.amounts.billed, 3200);
        assert_eq!(refreshed.version, 4);
        assert_eq!(refreshed.imported_at, stored.imported_at);
        assert_eq!(refreshed.mall_sync, stored.mall_sync);
        assert_eq!(refreshed.status, OrderStatus::ReadyToShip);
        let entry = refreshed.history.last().unwrap();
        assert_eq!(entry.event, "reimported");
        assert!(
            entry
                .changes
                .contains(&"amounts.billed: 3300 → 3200".to_string()),
            "{:?}",
            entry.changes
        );
        assert!(
            entry
                .changes
                .contains(&"mall_status: 100 → 300".to_string())
        );
        assert!(entry.changes.contains(&"buyer details changed".to_string()));
        assert!(
            entry
                .changes
                .iter()
                .all(|c| !c.contains("太郎") && !c.contains("花子"))
        );
    }

    #[test]
    fn reimport_never_moves_a_shipped_order_back() {
        let now = at("2026-11-23T10:00:00+09:00");
        let stored = order(3300, OrderStatus::Shipped);
        let refreshed = refresh_from_mall(stored, order(3300, OrderStatus::Imported), now);
        assert_eq!(refreshed.status, OrderStatus::Shipped);
        assert_eq!(
            refreshed.history.last().unwrap().changes,
            vec!["no changes".to_string()]
        );
    }

    fn with_line(mut order: Order, sku: Option<&str>) -> Order {
        order.destinations = vec![Destination {
            lines: vec![OrderLine {
                mall_line_id: "L1".into(),
                quantity: 1,
                sku: sku.map(str::to_owned),
                ..OrderLine::default()
            }],
            ..Destination::default()
        }];
        order
    }

    #[test]
    fn reimport_keeps_a_persons_hold_notes_skus_and_carrier() {
        let now = at("2026-11-23T10:00:00+09:00");
        let mut stored = with_line(order(3300, OrderStatus::ReadyToShip), Some("SKU-1"));
        stored.holds.push(Hold::by_operator("buyer called: wait"));
        stored.status = OrderStatus::OnHold;
        stored.operator.notes.push(OperatorNote {
            at: now,
            by: "op".into(),
            text: "call back".into(),
        });
        stored.delivery.carrier = Some("yamato".into());
        let mut fresh = with_line(order(3200, OrderStatus::Imported), None);
        fresh.mall_status.code = "300".into();
        let merged = refresh_from_mall(stored.clone(), fresh, now);
        assert_eq!(merged.status, OrderStatus::OnHold);
        assert_eq!(merged.holds, stored.holds);
        assert_eq!(merged.operator, stored.operator);
        assert_eq!(merged.lines().next().unwrap().sku.as_deref(), Some("SKU-1"));
        assert_eq!(merged.delivery.carrier.as_deref(), Some("yamato"));
        assert_eq!(merged.amounts.billed, 3200);
        assert_eq!(merged.mall_status.code, "300");
    }

    #[test]
    fn reimport_never_releases_a_hold_and_adds_new_ones() {
        let now = at("2026-11-23T10:00:00+09:00");
        let mut stored = order(3300, OrderStatus::OnHold);
        stored
            .holds
            .push(Hold::new(HoldKind::TotalsMismatch, None, "off by 1"));
        let mut fresh = order(3300, OrderStatus::Imported);
        fresh
            .holds
            .push(Hold::new(HoldKind::CancelRequested, None, "800"));
        let merged = refresh_from_mall(stored, fresh, now);
        let kinds: Vec<_> = merged.holds.iter().map(|h| h.kind).collect();
        assert_eq!(kinds, [HoldKind::TotalsMismatch, HoldKind::CancelRequested]);
        assert_eq!(merged.status, OrderStatus::OnHold);

        // A ready order that the fresh data puts on hold goes on hold.
        let stored = order(3300, OrderStatus::ReadyToShip);
        let mut fresh = order(3300, OrderStatus::Imported);
        fresh
            .holds
            .push(Hold::new(HoldKind::CancelRequested, None, "800"));
        assert_eq!(
            refresh_from_mall(stored, fresh, now).status,
            OrderStatus::OnHold
        );
    }

    #[test]
    fn edited_fields_keep_the_operators_value() {
        let now = at("2026-11-23T10:00:00+09:00");
        let mut stored = with_line(order(3300, OrderStatus::ReadyToShip), None);
        stored.destinations[0].recipient_name = "corrected".into();
        stored
            .operator
            .edited_fields
            .insert(editable::DESTINATIONS.into());
        let mut fresh = with_line(order(3300, OrderStatus::Imported), None);
        fresh.destinations[0].recipient_name = "from mall".into();
        let merged = refresh_from_mall(stored, fresh, now);
        assert_eq!(merged.destinations[0].recipient_name, "corrected");
    }
}
