//! Our order status machine, and the state of what we still owe the mall.
//!
//! ```text
//! imported ─┬─> awaiting_payment ──(payment)──> ready_to_ship ──> shipped ──> completed
//!           ├─> ready_to_ship
//!           └─> on_hold ──(holds cleared)──> awaiting_payment | ready_to_ship
//! any state before shipped ──(cancel)──> cancelled
//! ```
//! Every change goes through [`transition`]; an event that does not apply to the current
//! status is an error, never a silent overwrite.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::JstInstant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Imported,
    AwaitingPayment,
    ReadyToShip,
    Shipped,
    Completed,
    OnHold,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Imported => "imported",
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::ReadyToShip => "ready_to_ship",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::OnHold => "on_hold",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Before the goods leave the warehouse: the order can still be held or cancelled.
    pub fn is_before_shipment(&self) -> bool {
        matches!(
            self,
            OrderStatus::Imported
                | OrderStatus::AwaitingPayment
                | OrderStatus::ReadyToShip
                | OrderStatus::OnHold
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusEvent {
    /// Import finished: place the order by its holds and payment state.
    Settle {
        has_holds: bool,
        awaits_payment: bool,
    },
    /// A hold was added.
    Hold,
    /// The last hold was cleared.
    HoldsCleared {
        awaits_payment: bool,
    },
    PaymentConfirmed,
    Shipped,
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal status transition: {event:?} does not apply to an order that is {from}")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub event: StatusEvent,
}

/// The one place that decides status changes.
pub fn transition(from: OrderStatus, event: StatusEvent) -> Result<OrderStatus, IllegalTransition> {
    use OrderStatus::*;
    use StatusEvent as E;
    let placed = |has_holds: bool, awaits_payment: bool| {
        if has_holds {
            OnHold
        } else if awaits_payment {
            AwaitingPayment
        } else {
            ReadyToShip
        }
    };
    let to = match (from, event) {
        (
            Imported,
            E::Settle {
                has_holds,
                awaits_payment,
            },
        ) => placed(has_holds, awaits_payment),
        (Imported | AwaitingPayment | ReadyToShip | OnHold, E::Hold) => OnHold,
        (OnHold, E::HoldsCleared { awaits_payment }) => placed(false, awaits_payment),
        (AwaitingPayment, E::PaymentConfirmed) => ReadyToShip,
        // Paid while held: stays held; the payment is recorded on the order.
        (OnHold, E::PaymentConfirmed) => OnHold,
        (ReadyToShip, E::Shipped) => Shipped,
        (Shipped, E::Completed) => Completed,
        (s, E::Cancelled) if s.is_before_shipment() => Cancelled,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

/// Where a pending write to the mall stands. Shown per order so an operator sees what ichigen
/// is still telling the mall and what failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// Nothing owed to the mall.
    Idle,
    Pending,
    InFlight,
    Done,
    Failed {
        reason: String,
        /// Worth sending again (the mall was unavailable or the credential lapsed). A final
        /// rejection (`false`) stays visible with the mall's message and is not re-sent.
        #[serde(default)]
        retryable: bool,
    },
}

impl SyncState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SyncState::Idle => "idle",
            SyncState::Pending => "pending",
            SyncState::InFlight => "in_flight",
            SyncState::Done => "done",
            SyncState::Failed { .. } => "failed",
        }
    }
}

/// The order's current write to the mall (the audit trail of every write lives elsewhere).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MallSync {
    /// The mall operation (`confirmOrder`, `updateOrderShipping` …); `None` when idle.
    pub operation: Option<String>,
    #[serde(flatten)]
    pub state: SyncState,
    pub attempts: u32,
    pub updated_at: Option<JstInstant>,
}

impl MallSync {
    pub fn idle() -> Self {
        Self {
            operation: None,
            state: SyncState::Idle,
            attempts: 0,
            updated_at: None,
        }
    }

    pub fn pending(operation: &str, at: JstInstant) -> Self {
        Self {
            operation: Some(operation.to_owned()),
            state: SyncState::Pending,
            attempts: 0,
            updated_at: Some(at),
        }
    }

    /// Still owes the mall something that ichigen will send on its own (pending, or failed
    /// and worth retrying). A final rejection is not owed: it waits for a person.
    pub fn is_outstanding(&self) -> bool {
        matches!(
            self.state,
            SyncState::Pending
                | SyncState::InFlight
                | SyncState::Failed {
                    retryable: true,
                    ..
                }
        )
    }

    /// The mall refused the write for good: it waits for a person (listed as a failed
    /// write until someone retries it). Returns the mall's message.
    pub fn refused_for_good(&self) -> Option<&str> {
        match &self.state {
            SyncState::Failed {
                reason,
                retryable: false,
            } => Some(reason),
            _ => None,
        }
    }

    /// A person asks for the refused write to be sent again: owed once more, so the next
    /// import run's sweep sends it. The attempts so far are kept (they are the write's
    /// record, not a budget).
    pub fn send_again(&mut self, at: JstInstant) {
        self.state = SyncState::Pending;
        self.updated_at = Some(at);
    }

    pub fn record_attempt(&mut self, outcome: SyncState, at: JstInstant) {
        self.state = outcome;
        self.attempts += 1;
        self.updated_at = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn settle_places_by_holds_then_payment() {
        let settle = |has_holds, awaits_payment| {
            transition(
                Imported,
                StatusEvent::Settle {
                    has_holds,
                    awaits_payment,
                },
            )
            .unwrap()
        };
        assert_eq!(settle(false, false), ReadyToShip);
        assert_eq!(settle(false, true), AwaitingPayment);
        assert_eq!(settle(true, false), OnHold);
        assert_eq!(settle(true, true), OnHold);
    }

    #[test]
    fn payment_moves_awaiting_payment_to_ready() {
        assert_eq!(
            transition(AwaitingPayment, StatusEvent::PaymentConfirmed),
            Ok(ReadyToShip)
        );
        assert!(transition(ReadyToShip, StatusEvent::PaymentConfirmed).is_err());
    }

    #[test]
    fn cancellation_only_before_shipment() {
        for from in [Imported, AwaitingPayment, ReadyToShip, OnHold] {
            assert_eq!(transition(from, StatusEvent::Cancelled), Ok(Cancelled));
        }
        for from in [Shipped, Completed, Cancelled] {
            let err = transition(from, StatusEvent::Cancelled).unwrap_err();
            assert_eq!(err.from, from);
        }
    }

    #[test]
    fn shipping_requires_ready_to_ship() {
        assert_eq!(transition(ReadyToShip, StatusEvent::Shipped), Ok(Shipped));
        for from in [Imported, AwaitingPayment, OnHold, Cancelled, Completed] {
            assert!(transition(from, StatusEvent::Shipped).is_err(), "{from}");
        }
        assert_eq!(transition(Shipped, StatusEvent::Completed), Ok(Completed));
    }

    #[test]
    fn clearing_holds_returns_to_the_payment_track() {
        let cleared = |awaits_payment| StatusEvent::HoldsCleared { awaits_payment };
        assert_eq!(transition(OnHold, cleared(true)), Ok(AwaitingPayment));
        assert_eq!(transition(OnHold, cleared(false)), Ok(ReadyToShip));
        assert!(transition(ReadyToShip, cleared(false)).is_err());
    }

    #[test]
    fn illegal_transition_names_state_and_event() {
        let err = transition(Completed, StatusEvent::Shipped).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal status transition: Shipped does not apply to an order that is completed"
        );
    }
}
