//! Counts what a DynamoDB client costs: requests sent (retries included) and, for reads, the
//! capacity DynamoDB reports (the reads are asked for it) and an estimate by DynamoDB's own
//! rule from the sizes of the items read (moto reports a fixed 1 per Query and 0.5 per
//! GetItem).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Thousandths, so the counters stay integers.
const MILLI: f64 = 1000.0;

/// A DynamoDB client's meter; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct DynamoDbMeter {
    requests: Arc<AtomicU64>,
    reported_read_milli: Arc<AtomicU64>,
    estimated_read_milli: Arc<AtomicU64>,
}

impl DynamoDbMeter {
    /// A DynamoDB client whose every call this meter counts.
    pub fn client(&self, sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(self.clone())
                .build(),
        )
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Read capacity units as the service reported them (`ConsumedCapacity`).
    pub fn reported_read_units(&self) -> f64 {
        self.reported_read_milli.load(Ordering::Relaxed) as f64 / MILLI
    }

    /// Read capacity units by DynamoDB's rule for eventually consistent reads: half a unit
    /// per 4 KB of items read, per request (item sizes as DynamoDB counts them: names and
    /// values).
    pub fn estimated_read_units(&self) -> f64 {
        self.estimated_read_milli.load(Ordering::Relaxed) as f64 / MILLI
    }
}

fn add(counter: &AtomicU64, units: f64) {
    counter.fetch_add((units * MILLI).round() as u64, Ordering::Relaxed);
}

impl Intercept for DynamoDbMeter {
    fn name(&self) -> &'static str {
        "DynamoDbMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        if let Some(query) = input.downcast_mut::<QueryInput>() {
            query.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        } else if let Some(get) = input.downcast_mut::<GetItemInput>() {
            get.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        } else if let Some(batch) = input.downcast_mut::<BatchGetItemInput>() {
            batch.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Ok(output)) = context.output_or_error() else {
            return Ok(());
        };
        let item_bytes: Option<usize> = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            query
                .items
                .as_ref()
                .map(|items| items.iter().map(item_size).sum())
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            get.item.as_ref().map(item_size)
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            batch.responses.as_ref().map(|tables| {
                tables
                    .values()
                    .flat_map(|items| items.iter().map(item_size))
                    .sum()
            })
        } else {
            None
        };
        if let Some(bytes) = item_bytes {
            add(
                &self.estimated_read_milli,
                0.5 * (bytes as f64 / 4096.0).ceil().max(1.0),
            );
        }
        let units = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            query
                .consumed_capacity
                .as_ref()
                .and_then(|c| c.capacity_units)
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            get.consumed_capacity
                .as_ref()
                .and_then(|c| c.capacity_units)
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            batch
                .consumed_capacity
                .as_ref()
                .map(|all| all.iter().filter_map(|c| c.capacity_units).sum())
        } else {
            None
        };
        if let Some(units) = units {
            add(&self.reported_read_milli, units);
        }
        Ok(())
    }
}

/// An item's size as DynamoDB counts it: each attribute's name and value.
fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number.len().div_ceil(2) + 1,
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + item_size(map) + map.len(),
        _ => 0,
    }
}
