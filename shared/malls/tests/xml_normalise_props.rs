//! The XML malls' normalisers (Yahoo, au PAY) never panic: mutated answers (fields dropped,
//! texts replaced by odd values, elements duplicated, bytes cut) either normalise (with
//! holds) or are refused with an error naming the field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::{JstInstant, MallId, StoreRef};
use ichigen_malls::normalise_response;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn yahoo_base() -> String {
    fixture("yahoo/order_info_cod_gift_delivery.xml")
}

fn aupay_base() -> String {
    fixture("aupay/list_two_orders.xml")
}

/// Leaf elements of the fixture, as `(start of the open tag, end of the close tag, name)`.
fn leaves(xml: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = xml[at..].find('<').map(|i| i + at) {
        let Some(close) = xml[open..].find('>').map(|i| i + open) else {
            break;
        };
        let name = &xml[open + 1..close];
        at = close + 1;
        if name.starts_with('/') || name.starts_with('?') || name.contains(' ') {
            continue;
        }
        let end_tag = format!("</{name}>");
        if let Some(end) = xml[close..].find(&end_tag).map(|i| i + close)
            && !xml[close + 1..end].contains('<')
        {
            out.push((open, end + end_tag.len(), name.to_owned()));
        }
    }
    out
}

fn odd_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("2025-02-30".to_owned()),
        Just("2025-03-01T25:61:61+09:00".to_owned()),
        Just("payment_zz".to_owned()),
        Just("2025/02/30".to_owned()),
        Just("2025/03/01 25:61".to_owned()),
        Just("審査中？".to_owned()),
        Just("&amp;&lt;😀".to_owned()),
        Just("ﾊﾝｶｸ１２３".to_owned()),
        "[0-9]{0,12}",
        "\\PC{0,12}".prop_map(|s| s.replace(['<', '&'], "")),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    Replace(usize, String),
    Duplicate(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        (any::<usize>(), odd_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<usize>().prop_map(Mutation::Duplicate),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(xml: &str, mutation: &Mutation) -> String {
    let leaves = leaves(xml);
    if leaves.is_empty() {
        return xml.to_owned();
    }
    let pick = |i: usize| &leaves[i % leaves.len()];
    match mutation {
        Mutation::Drop(i) => {
            let (start, end, _) = pick(*i);
            format!("{}{}", &xml[..*start], &xml[*end..])
        }
        Mutation::Replace(i, value) => {
            let (start, end, name) = pick(*i);
            format!("{}<{name}>{value}</{name}>{}", &xml[..*start], &xml[*end..])
        }
        Mutation::Duplicate(i) => {
            let (start, end, _) = pick(*i);
            format!("{}{}", &xml[..*end], &xml[*start..])
        }
        Mutation::Truncate(i) => {
            let mut cut = i % (xml.len() + 1);
            while !xml.is_char_boundary(cut) {
                cut -= 1;
            }
            xml[..cut].to_owned()
        }
    }
}

/// Mutates `base` and normalises it: it never panics, and whatever it refuses names a field.
fn mutated_answer_is_read_or_refused(
    mall: MallId,
    base: &str,
    id_field: &str,
    mutations: &[Mutation],
) -> Result<(), TestCaseError> {
    let mut xml = base.to_owned();
    for m in mutations {
        xml = apply(&xml, m);
    }
    let store = StoreRef::new(mall, "props");
    let at: JstInstant = "2025-03-02T10:00:00+09:00".parse().unwrap();
    match normalise_response(mall, &store, &xml, at) {
        Err(error) => prop_assert!(!error.field.is_empty()),
        Ok(orders) => {
            for order in orders {
                match order {
                    Ok(order) => {
                        prop_assert!(!order.mall_order_id.is_empty());
                        for hold in &order.holds {
                            prop_assert!(!hold.message.is_empty());
                        }
                    }
                    Err(error) => prop_assert_eq!(error.field, id_field),
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn mutated_yahoo_answers_never_panic(mutations in proptest::collection::vec(mutation(), 1..6)) {
        mutated_answer_is_read_or_refused(MallId::Yahoo, &yahoo_base(), "OrderId", &mutations)?;
    }

    #[test]
    fn mutated_aupay_answers_never_panic(mutations in proptest::collection::vec(mutation(), 1..6)) {
        mutated_answer_is_read_or_refused(MallId::Aupay, &aupay_base(), "orderId", &mutations)?;
    }
}

#[test]
fn the_mutator_finds_the_leaves() {
    let found = leaves(&yahoo_base());
    assert!(found.len() > 40, "{}", found.len());
    assert!(found.iter().any(|(_, _, name)| name == "TotalPrice"));
    let found = leaves(&aupay_base());
    assert!(found.len() > 60, "{}", found.len());
    assert!(found.iter().any(|(_, _, name)| name == "requestPrice"));
}
