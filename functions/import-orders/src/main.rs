//! Lambda entry point: build the adapters once, then serve invocations.

use import_orders::{App, Invocation, Outcome, deadline_from_epoch_ms, init_logging};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Invocation>| async move {
            let deadline = deadline_from_epoch_ms(event.context.deadline);
            // The runtime logs what it gets back: a one-line summary, never a report with
            // order ids or a payload.
            let outcome: Outcome = app
                .handle(event.payload, deadline)
                .await
                .map_err(|e| Error::from(e.to_string()))?;
            Ok::<Outcome, Error>(outcome)
        },
    ))
    .await
}
