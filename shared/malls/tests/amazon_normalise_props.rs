//! Property test: mutated Amazon payloads never make the normaliser panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::order::RawPayload;
use ichigen_core::{JstInstant, MallId, StoreRef};
use ichigen_malls::amazon::normalise::normalise_order;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const FIXTURES: [&str; 4] = [
    "cod_two_lines",
    "pending_konbini",
    "fba_gift_scheduled",
    "bad_amounts",
];

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/amazon/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

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
        Just(json!({"CurrencyCode": "JPY", "Amount": "9223372036854775807"})),
        Just(json!({"CurrencyCode": "JPY", "Amount": "-9223372036854775808.00"})),
        Just(json!({"CurrencyCode": "USD", "Amount": "11.01"})),
        Just(json!({"CurrencyCode": "JPY", "Amount": "1980.5"})),
        Just(json!("2025-13-45T99:99:99Z")),
        Just(json!("2025-06-01T11:00:00+09:00")),
        Just(json!("true")),
        Just(json!(u64::MAX)),
        "\\PC{0,16}".prop_map(Value::from),
        "-?[0-9]{1,20}(\\.[0-9]{0,3})?".prop_map(Value::from),
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
        let store = StoreRef::new(MallId::Amazon, "store-a");
        let at: JstInstant = "2025-06-02T12:00:00+09:00".parse().unwrap();
        match normalise_order(&store, &doc, RawPayload::json(&doc), at) {
            Ok(order) => {
                prop_assert!(serde_json::to_string(&order).is_ok());
                prop_assert!(order.holds.iter().all(|h| h.field.is_some()));
            }
            Err(error) => prop_assert!(!error.field.is_empty()),
        }
    }
}
