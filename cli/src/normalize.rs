//! `ichigen normalize`: a raw mall response in, unified orders out.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ichigen_core::ports::{Clock, SystemClock};
use ichigen_core::{HoldKind, MallId, StoreRef};

/// Prints the orders as a JSON array on stdout. Orders that cannot be read, and fields that
/// are malformed, are reported on stderr naming the order and field, and make the exit code
/// non-zero; the readable orders still print.
pub fn run(mall: MallId, store: &StoreRef, file: &Path) -> anyhow::Result<ExitCode> {
    let body =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let results = ichigen_malls::normalise_response(mall, store, &body, SystemClock.now())
        .with_context(|| format!("{} is not a {mall} order response", file.display()))?;
    let mut orders = Vec::new();
    let mut failed = 0;
    for result in results {
        match result {
            Ok(order) => {
                // Malformed fields are held on the order (so an import never stops), but for a
                // person checking a file they are errors.
                for hold in order
                    .holds
                    .iter()
                    .filter(|h| h.kind == HoldKind::MalformedField)
                {
                    failed += 1;
                    eprintln!(
                        "ichigen: {}: order {}: {hold}",
                        file.display(),
                        order.mall_order_id
                    );
                }
                orders.push(order);
            }
            Err(error) => {
                failed += 1;
                eprintln!("ichigen: {}: {error}", file.display());
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&orders)?);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
