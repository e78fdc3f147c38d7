use super::*;
use crate::status::OrderStatus;

fn at(s: &str) -> JstInstant {
    s.parse().unwrap()
}

fn answered(answer: Answer, status: OrderStatus) -> (Order, Follow) {
    let store = StoreRef::new(crate::order::MallId::Rakuten, "s");
    let mut order: Order = serde_json::from_value(serde_json::json!({
        "id": "rakuten:s:1", "store": "rakuten:s", "mall_order_id": "1",
        "ordered_at": "2026-11-22T10:00:00+09:00",
        "buyer": {"name": "x", "kana": null, "email": null, "phone": null, "address": null},
        "destinations": [], "amounts": {"goods":0,"shipping":0,"cod_fee":0,"payment_fee":0,"gift_wrapping":0,"coupons":0,"coupons_shop_funded":0,"points":0,"total":0,"billed":0,"tax":null},
        "payment": {"method":"credit_card","mall_method_code":"1","mall_method_name":"card","paid_at":null,"due_date":null},
        "delivery": {"mall_method_name":"","carrier":null,"desired_date":null,"time_slot":null},
        "gift": {"is_gift":false,"wrappings":[],"noshi":null}, "notes": null,
        "mall_status": {"code":"100","label":""}, "status": "ready_to_ship", "holds": [],
        "mall_sync": {"operation":"confirmOrder","state":"pending","attempts":0,"updated_at":null},
        "history": [], "version": 1, "imported_at": "2026-11-22T10:00:00+09:00",
        "updated_at": "2026-11-22T10:00:00+09:00", "raw": {"content_type":"application/json","body":"{}"}
    }))
    .unwrap();
    assert_eq!(order.store, store);
    order.status = status;
    let follow = apply_answer(&mut order, &answer, at("2026-11-22T11:00:00+09:00"));
    (order, follow)
}

#[test]
fn a_cancellation_the_mall_reports_cancels_our_order() {
    let answer = Answer::Mall(AckOutcome::Cancelled {
        reason: "ERROR_102".into(),
    });
    let (order, follow) = answered(answer.clone(), OrderStatus::ReadyToShip);
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.mall_sync.state, SyncState::Done);
    assert!(matches!(follow, Follow::Cancelled(_)));
    let entry = order.history.last().unwrap();
    assert_eq!(entry.event, "cancelled_on_mall");
    assert_eq!(
        entry.changes,
        ["status: ready_to_ship → cancelled (ERROR_102)"]
    );
    // A shipped order is not changed silently: the history asks a person to look.
    let (order, _) = answered(answer, OrderStatus::Shipped);
    assert_eq!(order.status, OrderStatus::Shipped);
    assert!(
        order.history.last().unwrap().changes[0].contains("a person must check"),
        "{:?}",
        order.history
    );
    assert_eq!(order.holds[0].kind, HoldKind::ChangedOnMall);
}

#[test]
fn each_write_and_the_malls_answer_go_to_the_write_log_once() {
    let unavailable = Answer::Failed {
        reason: "rakuten:s: confirmOrder — mall unavailable after 3 attempts: 503".into(),
        retryable: true,
    };
    let (mut order, _) = answered(unavailable.clone(), OrderStatus::ReadyToShip);
    // The next run meets the same outage: the log does not grow.
    apply_answer(&mut order, &unavailable, at("2026-11-22T11:03:00+09:00"));
    apply_answer(
        &mut order,
        &Answer::Mall(AckOutcome::Accepted),
        at("2026-11-22T11:06:00+09:00"),
    );
    let log: Vec<(String, &str)> = order
        .history
        .iter()
        .filter(|e| e.event == MALL_WRITE)
        .map(|e| (e.at.to_string(), e.changes[0].as_str()))
        .collect();
    assert_eq!(
        log,
        [
            (
                "2026-11-22T11:00:00+09:00".to_owned(),
                "confirmOrder: not delivered (sent again): rakuten:s: confirmOrder — mall unavailable after 3 attempts: 503"
            ),
            (
                "2026-11-22T11:06:00+09:00".to_owned(),
                "confirmOrder: accepted"
            ),
        ]
    );
    assert_eq!(order.mall_sync.attempts, 3);
    assert_eq!(order.mall_sync.state, SyncState::Done);
}

#[test]
fn a_cancel_request_holds_the_order() {
    let answer = Answer::Mall(AckOutcome::CancelRequested {
        reason: "800".into(),
    });
    let (order, _) = answered(answer, OrderStatus::ReadyToShip);
    assert_eq!(order.status, OrderStatus::OnHold);
    assert!(order.has_hold(HoldKind::CancelRequested));
}

#[test]
fn failures_say_whether_they_are_owed_again() {
    let final_no = Answer::Mall(AckOutcome::Rejected {
        reason: "ERROR_105".into(),
    });
    let (order, _) = answered(final_no, OrderStatus::ReadyToShip);
    assert!(!order.mall_sync.is_outstanding());
    let later = Answer::Failed {
        reason: "503".into(),
        retryable: true,
    };
    let (order, _) = answered(later, OrderStatus::ReadyToShip);
    assert!(order.mall_sync.is_outstanding());
    assert_eq!(order.mall_sync.attempts, 1);
}
