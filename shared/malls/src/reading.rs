//! What the normalisers share while reading a mall's payload: holds collected as fields are
//! read (a field that cannot be read becomes a hold naming it, never an error or a panic),
//! whole-yen amounts, and values quoted short and escaped in hold messages.

use std::marker::PhantomData;

use ichigen_core::hold::{Hold, HoldKind};
use ichigen_core::mall::NormaliseError;
use ichigen_core::{JstInstant, MallId, Yen};
use jiff::civil::Date;

use crate::xml::Element;

/// One mall's date and date-time forms, as the [`Reader`] parses them and names them in
/// holds.
pub(crate) trait DateForms {
    /// How a hold describes a good date-time (`"a date-time like 2025-03-01T09:12:44+09:00"`).
    const INSTANT: &'static str;
    /// How a hold describes a good date.
    const DATE: &'static str;
    /// `None` for anything unreadable or impossible (31 November is never rolled over).
    fn instant(text: &str) -> Option<JstInstant>;
    fn date(text: &str) -> Option<Date>;
}

/// Collects holds while a normaliser reads an order.
pub(crate) struct Reader<F> {
    pub(crate) holds: Vec<Hold>,
    forms: PhantomData<F>,
}

impl<F> Default for Reader<F> {
    fn default() -> Self {
        Self {
            holds: Vec::new(),
            forms: PhantomData,
        }
    }
}

impl<F: DateForms> Reader<F> {
    pub(crate) fn hold(&mut self, kind: HoldKind, field: &str, message: impl Into<String>) {
        self.holds
            .push(Hold::new(kind, Some(field.to_owned()), message.into()));
    }

    pub(crate) fn malformed(&mut self, field: &str, message: impl Into<String>) {
        self.hold(HoldKind::MalformedField, field, message);
    }

    /// A whole-yen amount: missing or empty is `None` (absent), anything else unreadable is
    /// held and `None`.
    pub(crate) fn yen(&mut self, parent: &Element, field: &str, path: &str) -> Option<Yen> {
        let value = parent.child_text(field).filter(|t| !t.is_empty())?;
        match parse_yen(value) {
            Some(v) => Some(v),
            None => {
                self.malformed(path, format!("is not a whole yen amount: {}", quote(value)));
                None
            }
        }
    }

    /// A date-time in the mall's form; unreadable is held and `None`.
    pub(crate) fn instant(&mut self, field: &str, value: &str) -> Option<JstInstant> {
        let parsed = F::instant(value);
        if parsed.is_none() {
            self.malformed(field, format!("is not {}: {}", F::INSTANT, quote(value)));
        }
        parsed
    }

    /// A date in the mall's form; unreadable is held and `None`.
    pub(crate) fn date(&mut self, field: &str, value: &str) -> Option<Date> {
        let parsed = F::date(value);
        if parsed.is_none() {
            self.malformed(field, format!("is not {}: {}", F::DATE, quote(value)));
        }
        parsed
    }
}

/// The mall's order id from an order element named `element` with the id in its child
/// `id_field`: the one thing a normaliser cannot do without (everything else is held).
pub(crate) fn order_id(
    mall: MallId,
    order: &Element,
    element: &str,
    id_field: &str,
) -> Result<String, NormaliseError> {
    let fail = |field: &str, problem: String| NormaliseError {
        mall,
        mall_order_id: String::new(),
        field: field.to_owned(),
        problem,
    };
    if order.name != element {
        return Err(fail(
            "(payload)",
            format!("must be an <{element}> element, found <{}>", order.name),
        ));
    }
    match order.child_text(id_field) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        Some(_) => Err(fail(id_field, "is empty".into())),
        None => Err(fail(id_field, "is missing".into())),
    }
}

/// A child's text, `None` when missing or empty.
pub(crate) fn text(parent: &Element, field: &str) -> Option<String> {
    parent
        .child_text(field)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Whole yen, thousands separators allowed (`1,980`).
pub(crate) fn parse_yen(value: &str) -> Option<Yen> {
    value.trim().replace(',', "").parse::<i64>().ok()
}

/// Exact yen from a decimal amount (Qoo10's `"1480.0000"`, Amazon's `"1980.00"`, `2980`): a non-zero fraction is an error, anything
/// else unreadable too. Absent is `None`.
pub(crate) fn decimal_yen(raw: &str) -> Result<Yen, String> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("is not an amount: {}", quote(raw)));
    }
    if fraction.bytes().any(|b| b != b'0') {
        return Err(format!("has a fraction of a yen: {}", quote(raw)));
    }
    whole
        .parse::<i64>()
        .map_err(|_| format!("is out of range: {}", quote(raw)))
}

/// A value for a hold message: escaped, and cut after 40 characters so a hostile payload
/// cannot flood the hold list.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 40;
    let cut: String = value.chars().take(MAX).collect();
    if cut.len() < value.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// A desired delivery time written as text (`14:00-16:00`, `14時～16時`, `午前中`) → our
/// slot (`14-16`, `08-12`); `None` for anything else (`夕方`, a slot ending before it starts).
pub(crate) fn time_slot_text(text: &str) -> Option<String> {
    let text = text.trim();
    if text.contains("午前") {
        return Some("08-12".into());
    }
    let hours: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .filter(|h| *h != 0)
        .collect();
    let (from, to) = match hours.as_slice() {
        [from, to] => (*from, *to),
        [from, _, to, _] if text.contains(':') => (*from, *to),
        _ => return None,
    };
    (7..24).contains(&from).then_some(())?;
    (from < to && to <= 24).then(|| format!("{from:02}-{to:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_escaped_and_cut_after_forty_characters() {
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        let long = "あ".repeat(41);
        assert_eq!(quote(&long), format!("{:?}…", "あ".repeat(40)));
        assert_eq!(quote(&"x".repeat(40)), format!("{:?}", "x".repeat(40)));
    }

    #[test]
    fn yen_takes_separators_but_no_fractions() {
        assert_eq!(parse_yen(" 1,980 "), Some(1980));
        assert_eq!(parse_yen("-50"), Some(-50));
        assert_eq!(parse_yen("19.8"), None);
        assert_eq!(parse_yen(""), None);
    }

    #[test]
    fn decimal_amounts_are_exact_yen_or_an_error() {
        assert_eq!(decimal_yen("1480.0000"), Ok(1480));
        assert_eq!(decimal_yen("2980"), Ok(2980));
        assert_eq!(decimal_yen("-100.00"), Ok(-100));
        assert!(decimal_yen("1480.5000").unwrap_err().contains("fraction"));
        assert!(decimal_yen("11.01").unwrap_err().contains("fraction"));
        assert!(decimal_yen("1,480").is_err());
        assert!(decimal_yen("1e3").is_err());
        assert!(decimal_yen(".").is_err());
        assert!(decimal_yen("１９８０").is_err());
        assert!(decimal_yen("").is_err());
        assert!(decimal_yen("99999999999999999999").is_err());
    }
}
