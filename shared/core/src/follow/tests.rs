use super::*;
use crate::order::{OrderLine, PaymentMethod};
use crate::testing::{held, ready_order};

fn at(s: &str) -> JstInstant {
    s.parse().unwrap()
}

const NOW: &str = "2026-11-25T10:00:00+09:00";

/// A konbini order awaiting payment, as stored after import.
fn unpaid() -> Order {
    let mut order = ready_order("yahoo:shop", "shop-1001", "2026-11-22T09:00:00+09:00");
    order.payment.method = PaymentMethod::Konbini;
    order.payment.mall_method_code = "payment_b1".into();
    order.payment.mall_method_name = "コンビニ決済".into();
    order.status = OrderStatus::AwaitingPayment;
    order
}

/// The mall's copy of `stored` as the normaliser returns it (status `imported`, no history).
fn fresh_copy(stored: &Order) -> Order {
    let mut fresh = stored.clone();
    fresh.status = OrderStatus::Imported;
    fresh.history.clear();
    fresh.holds.clear();
    fresh.version = 1;
    fresh
}

fn three_lines(mut order: Order) -> Order {
    let line = |id: &str, name: &str| OrderLine {
        mall_line_id: id.into(),
        name: name.into(),
        quantity: 1,
        unit_price: 1000,
        ..order.destinations[0].lines[0].clone()
    };
    order.destinations[0].lines = vec![line("1", "煎茶"), line("2", "玉露"), line("3", "ほうじ茶")];
    order.amounts.goods = 3000;
    order.amounts.total = 3000;
    order.amounts.billed = 3000;
    order
}

fn events(order: &Order) -> Vec<&str> {
    order.history.iter().map(|h| h.event.as_str()).collect()
}

#[test]
fn an_unchanged_order_is_not_written() {
    let stored = unpaid();
    assert!(follow_mall(&stored, fresh_copy(&stored), at(NOW)).is_none());
}

#[test]
fn paid_on_the_mall_becomes_ready_to_ship() {
    let stored = unpaid();
    let mut fresh = fresh_copy(&stored);
    fresh.payment.paid_at = Some(at("2026-11-25T09:30:00+09:00"));
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::Paid]);
    assert_eq!(followed.order.status, OrderStatus::ReadyToShip);
    assert_eq!(followed.order.version, stored.version + 1);
    assert_eq!(events(&followed.order), ["changed_on_mall", "paid_on_mall"]);
    assert!(
        followed.order.history[0]
            .changes
            .iter()
            .any(|c| c.starts_with("payment.paid_at: none → 2026-11-25T09:30:00")),
        "{:?}",
        followed.order.history[0].changes
    );
}

#[test]
fn a_held_order_paid_on_the_mall_stays_held_and_leaves_the_hold_ready() {
    let stored = held(unpaid(), &[HoldKind::UnmappedSku]);
    let mut fresh = fresh_copy(&stored);
    fresh.payment.paid_at = Some(at(NOW));
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::Paid]);
    assert_eq!(followed.order.status, OrderStatus::OnHold);
    assert_eq!(followed.order.holds, stored.holds);
    assert!(!followed.order.payment.awaits_payment());
}

#[test]
fn a_mall_that_settles_its_own_pending_orders_is_paid_when_it_no_longer_waits() {
    // Amazon: Pending (settled awaiting payment by the normaliser, method not known yet) →
    // Unshipped with a method and a time.
    let mut stored = unpaid();
    stored.payment.method = PaymentMethod::Other;
    stored.payment.mall_method_code = String::new();
    stored.payment.mall_method_name = String::new();
    let mut pending = fresh_copy(&stored);
    pending.status = OrderStatus::AwaitingPayment;
    assert!(follow_mall(&stored, pending, at(NOW)).is_none());
    let mut unshipped = fresh_copy(&stored);
    unshipped.payment.method = PaymentMethod::Konbini;
    unshipped.payment.mall_method_code = "CVS".into();
    unshipped.payment.paid_at = Some(at(NOW));
    let followed = follow_mall(&stored, unshipped, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::Paid]);
    assert_eq!(followed.order.payment.method, PaymentMethod::Konbini);
    assert_eq!(followed.order.status, OrderStatus::ReadyToShip);
}

#[test]
fn a_full_cancellation_cancels_an_order_not_shipped() {
    let stored = unpaid();
    let mut fresh = fresh_copy(&stored);
    fresh.status = OrderStatus::Cancelled;
    fresh.mall_status.code = "キャンセル".into();
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::Cancelled]);
    assert_eq!(followed.order.status, OrderStatus::Cancelled);
    assert_eq!(
        events(&followed.order),
        ["changed_on_mall", "cancelled_on_mall"]
    );
    // Cancelled stays cancelled: nothing more to follow.
    let again = fresh_copy(&followed.order);
    assert!(follow_mall(&followed.order, again, at(NOW)).is_none());
}

#[test]
fn a_cancellation_after_shipment_is_a_hold_for_a_person() {
    let mut stored = ready_order("yahoo:shop", "shop-1002", "2026-11-22T09:00:00+09:00");
    stored.status = OrderStatus::Shipped;
    let mut fresh = fresh_copy(&stored);
    fresh.status = OrderStatus::Cancelled;
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::CancelledAfterShipment]);
    assert_eq!(followed.order.status, OrderStatus::Shipped);
    assert_eq!(followed.order.holds.len(), 1);
    assert_eq!(followed.order.holds[0].kind, HoldKind::ChangedOnMall);
    assert!(
        followed.order.holds[0]
            .message
            .contains("after it was shipped")
    );
}

#[test]
fn one_line_of_three_cancelled_retotals_the_order_and_names_the_line() {
    let stored = three_lines(ready_order(
        "qoo10:shop",
        "P-1",
        "2026-11-22T09:00:00+09:00",
    ));
    let mut fresh = fresh_copy(&stored);
    fresh.destinations[0].lines.remove(1);
    fresh.amounts.goods = 2000;
    fresh.amounts.total = 2000;
    fresh.amounts.billed = 2000;
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(
        followed.changes,
        [MallChange::LinesCancelled(vec![
            "line 2 「玉露」 ×1 → ×0".into()
        ])]
    );
    let order = followed.order;
    assert_eq!(order.status, OrderStatus::ReadyToShip);
    assert_eq!(order.lines().count(), 2);
    assert_eq!(order.amounts.billed, 2000);
    let entry = order.history.last().unwrap();
    assert_eq!(entry.event, "lines_cancelled_on_mall");
    assert_eq!(
        entry.changes,
        ["line 2 「玉露」 ×1 → ×0", "amounts.billed: 3000 → 2000"]
    );
    // The resolved SKUs of the lines that stay are kept.
    assert!(order.lines().all(|l| l.sku.as_deref() == Some("SKU-1")));
}

#[test]
fn every_line_cancelled_cancels_the_order() {
    let stored = three_lines(ready_order(
        "qoo10:shop",
        "P-2",
        "2026-11-22T09:00:00+09:00",
    ));
    let mut fresh = fresh_copy(&stored);
    fresh.destinations[0].lines.clear();
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::Cancelled]);
    assert_eq!(followed.order.status, OrderStatus::Cancelled);
}

#[test]
fn a_cancel_request_holds_and_its_withdrawal_releases() {
    let stored = unpaid();
    let mut requested = fresh_copy(&stored);
    requested.holds.push(Hold::new(
        HoldKind::CancelRequested,
        Some("orderStatus".to_owned()),
        "キャンセル受付中",
    ));
    let followed = follow_mall(&stored, requested, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::CancelRequested]);
    assert_eq!(followed.order.status, OrderStatus::OnHold);
    let held_order = followed.order;

    let withdrawn = fresh_copy(&stored);
    let followed = follow_mall(&held_order, withdrawn, at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::CancelWithdrawn]);
    assert_eq!(followed.order.status, OrderStatus::AwaitingPayment);
    assert!(followed.order.holds.is_empty());
    assert_eq!(
        events(&followed.order)[followed.order.history.len() - 1],
        "mall_hold_released"
    );
}

#[test]
fn a_withdrawal_keeps_a_persons_hold() {
    let mut stored = unpaid();
    stored.status = OrderStatus::OnHold;
    stored.holds = vec![
        Hold::new(HoldKind::CancelRequested, None, "requested"),
        Hold::by_operator("buyer called"),
    ];
    let followed = follow_mall(&stored, fresh_copy(&stored), at(NOW)).unwrap();
    assert_eq!(followed.changes, [MallChange::CancelWithdrawn]);
    assert_eq!(followed.order.status, OrderStatus::OnHold);
    assert_eq!(followed.order.holds, [Hold::by_operator("buyer called")]);
}

#[test]
fn a_hold_a_person_cleared_does_not_come_back_while_the_mall_data_is_the_same() {
    let stored = ready_order("yahoo:shop", "shop-1003", "2026-11-22T09:00:00+09:00");
    let mut fresh = fresh_copy(&stored);
    fresh
        .holds
        .push(Hold::new(HoldKind::UnmappedSku, None, "S-1 has no SKU"));
    assert!(follow_mall(&stored, fresh, at(NOW)).is_none());
}

#[test]
fn a_new_payment_method_is_recorded_and_held_not_applied() {
    let stored = unpaid();
    let mut fresh = fresh_copy(&stored);
    fresh.payment.method = PaymentMethod::CreditCard;
    fresh.payment.mall_method_code = "payment_a1".into();
    fresh.payment.mall_method_name = "クレジットカード".into();
    fresh.payment.paid_at = Some(at(NOW));
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    let order = &followed.order;
    assert_eq!(order.payment, stored.payment);
    assert_eq!(order.status, OrderStatus::OnHold);
    assert_eq!(order.holds[0].kind, HoldKind::ChangedOnMall);
    assert!(
        order.holds[0]
            .message
            .contains("payment method 「コンビニ決済」 → 「クレジットカード」"),
        "{}",
        order.holds[0].message
    );
    assert_eq!(
        followed.changes,
        [MallChange::NotApplied(vec![
            "payment method 「コンビニ決済」 → 「クレジットカード」".into()
        ])]
    );
    assert!(events(order).contains(&"changed_on_mall_not_applied"));
}

#[test]
fn lines_added_on_the_mall_are_held_not_applied() {
    let stored = ready_order("rakuten:shop", "1-20261122-1", "2026-11-22T09:00:00+09:00");
    let mut fresh = fresh_copy(&stored);
    let mut extra = fresh.destinations[0].lines[0].clone();
    extra.mall_line_id = "9".into();
    extra.name = "羊羹".into();
    fresh.destinations[0].lines.push(extra);
    fresh.amounts.billed = 3000;
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.order.destinations, stored.destinations);
    assert_eq!(followed.order.amounts, stored.amounts);
    assert_eq!(followed.order.status, OrderStatus::OnHold);
    assert_eq!(
        followed.changes,
        [MallChange::NotApplied(vec![
            "lines added on the mall: line 9 「羊羹」 ×0 → ×2".into()
        ])]
    );
}

#[test]
fn a_new_shipping_method_is_recorded_only() {
    let stored = ready_order("rakuten:shop", "1-20261122-2", "2026-11-22T09:00:00+09:00");
    let mut fresh = fresh_copy(&stored);
    fresh.delivery.mall_method_name = "メール便".into();
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    assert_eq!(followed.order.delivery, stored.delivery);
    assert_eq!(followed.order.status, OrderStatus::ReadyToShip);
    assert!(followed.order.holds.is_empty());
    assert_eq!(
        followed.changes,
        [MallChange::NotApplied(vec![
            "shipping method 「宅配便」 → 「メール便」 (the carrier stays yamato)".into()
        ])]
    );
}

#[test]
fn history_names_no_personal_data() {
    let stored = unpaid();
    let mut fresh = fresh_copy(&stored);
    fresh.buyer.name = "佐藤 一郎".into();
    fresh.destinations[0].recipient_name = "佐藤 一郎".into();
    fresh.payment.paid_at = Some(at(NOW));
    let followed = follow_mall(&stored, fresh, at(NOW)).unwrap();
    let text = format!("{:?}", followed.order.history);
    assert!(!text.contains("佐藤") && !text.contains("山田"), "{text}");
    assert!(text.contains("buyer details changed"));
}
