//! Reading a store's secret (a JSON object) the same way for every mall: errors name the store
//! and the field, never the value, and every missing field is reported before any bad value.

use ichigen_core::StoreRef;
use ichigen_core::ports::SecretValue;
use serde_json::{Map, Value};

use crate::connect::ConnectError;

/// The fields of one store's secret.
pub(crate) struct SecretFields<'s> {
    store: &'s StoreRef,
    fields: Map<String, Value>,
}

impl<'s> SecretFields<'s> {
    /// The secret as a JSON object, with `required` fields all present (a missing one is
    /// named first, whatever else is wrong).
    pub(crate) fn parse(
        store: &'s StoreRef,
        secret: &SecretValue,
        required: &[&'static str],
    ) -> Result<Self, ConnectError> {
        let value: Value =
            serde_json::from_str(secret.expose()).map_err(|e| ConnectError::BadJson {
                store: store.clone(),
                detail: format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            })?;
        let Value::Object(fields) = value else {
            return Err(ConnectError::BadJson {
                store: store.clone(),
                detail: format!("found {}", json_kind(&value)),
            });
        };
        let secret = Self { store, fields };
        for &field in required {
            if secret.get(field).is_none() {
                return Err(secret.missing(field));
            }
        }
        Ok(secret)
    }

    /// The field's value; `None` when missing or `null`.
    pub(crate) fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    /// Trimmed text; `None` when missing, an error when empty or not text.
    pub(crate) fn text(&self, field: &'static str) -> Result<Option<String>, ConnectError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.bad(field, "is empty")),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(other) => Err(self.wrong_kind(field, "text", other)),
        }
    }

    /// Like [`Self::text`], and missing is an error.
    pub(crate) fn required_text(&self, field: &'static str) -> Result<String, ConnectError> {
        self.text(field)?.ok_or_else(|| self.missing(field))
    }

    /// `true` or `false`; `None` when missing.
    pub(crate) fn flag(&self, field: &'static str) -> Result<Option<bool>, ConnectError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_kind(field, "true or false", other)),
        }
    }

    pub(crate) fn missing(&self, field: &'static str) -> ConnectError {
        ConnectError::MissingField {
            store: self.store.clone(),
            field,
        }
    }

    pub(crate) fn bad(&self, field: &'static str, problem: impl Into<String>) -> ConnectError {
        ConnectError::BadField {
            store: self.store.clone(),
            field,
            problem: problem.into(),
        }
    }

    /// "must be `expected`, found a list".
    pub(crate) fn wrong_kind(
        &self,
        field: &'static str,
        expected: &str,
        found: &Value,
    ) -> ConnectError {
        self.bad(
            field,
            format!("must be {expected}, found {}", json_kind(found)),
        )
    }
}

/// How a JSON value's type reads in an error message.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
