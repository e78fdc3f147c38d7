//! Lambda entry point: build the adapters once, then serve invocations.

use import_orders::{App, Invocation, Outcome, init_logging};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Invocation>| async move {
            let outcome: Outcome = app.handle(event.payload).await?;
            Ok::<Outcome, Error>(outcome)
        },
    ))
    .await
}
