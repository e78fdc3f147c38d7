//! Property: normalising never panics, whatever happens to a payload's fields.
//!
//! Each case takes a fixture and applies a few mutations (replace any value anywhere with a
//! random JSON value, or delete it), then normalises. The result may be an order (with holds)
//! or an error, never a panic; and an order is always serialisable.

// Test helpers outside #[test] functions panic on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::{JstInstant, MallId, StoreRef};
use ichigen_malls::rakuten::normalise::normalise_order;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const FIXTURES: [&str; 9] = [
    "plain",
    "multi_destination",
    "points_coupons",
    "gift_wrapping",
    "konbini_unpaid",
    "emoji_text",
    "bad_total",
    "unfixed_postage",
    "malformed",
];

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/rakuten/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// JSON pointers of every value in the document (the root excluded).
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(path.clone());
                pointers(child, path, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = format!("{at}/{i}");
                out.push(path.clone());
                pointers(child, path, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
}

fn apply(doc: &mut Value, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    if all.is_empty() {
        return;
    }
    match mutation {
        Mutation::Replace(pick, value) => {
            if let Some(slot) = doc.pointer_mut(&all[pick % all.len()]) {
                *slot = value.clone();
            }
        }
        Mutation::Remove(pick) => {
            let pointer = &all[pick % all.len()];
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(-9999)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e300)),
        Just(json!(0.1)),
        "\\PC{0,16}".prop_map(Value::from),
        "[0-9]{1,6}".prop_map(Value::from),
        Just(json!("2025-13-45T99:99:99+0900")),
        Just(json!("のし:御祝")),
        Just(json!("😀\u{200d}👩\u{0301}")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z]{1,12}", inner), 0..3)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), value()).prop_map(|(pick, v)| Mutation::Replace(pick, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn normalising_never_panics(
        which in 0..FIXTURES.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut doc = fixture(FIXTURES[which]);
        for m in &mutations {
            apply(&mut doc, m);
        }
        let store = StoreRef::new(MallId::Rakuten, "store-a");
        let at: JstInstant = "2025-03-01T12:00:00+09:00".parse().unwrap();
        match normalise_order(&store, &doc, at) {
            Ok(order) => {
                prop_assert!(serde_json::to_string(&order).is_ok());
                prop_assert!(order.holds.iter().all(|h| h.field.is_some()));
                prop_assert_eq!(order.version, 1);
            }
            Err(error) => prop_assert!(!error.field.is_empty()),
        }
    }

    #[test]
    fn any_json_at_all_never_panics(doc in value()) {
        let store = StoreRef::new(MallId::Rakuten, "store-a");
        let at: JstInstant = "2025-03-01T12:00:00+09:00".parse().unwrap();
        let _ = normalise_order(&store, &doc, at);
    }
}
