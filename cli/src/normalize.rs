//! `ichigen normalize`: a raw mall response in, unified orders out.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ichigen_core::ports::{Clock, SystemClock};
use ichigen_core::{HoldKind, MallId, StoreRef};

/// Prints the orders as a JSON array on stdout. Orders that cannot be read, and fields that
/// are malformed, are reported on stderr naming the order and field, and make the exit code
/// non-zero; the readable orders still print.
/// Several files are read together (Amazon's order and its items come from two calls).
pub fn run(mall: MallId, store: &StoreRef, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut bodies = Vec::with_capacity(files.len());
    for file in files {
        bodies.push(
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        );
    }
    let names = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let file = Path::new(&names);
    let results = ichigen_malls::normalise_responses(mall, store, &bodies, SystemClock.now())
        .with_context(|| format!("{names} is not a {mall} order response"))?;
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
