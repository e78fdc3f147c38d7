//! Lambda entry point: build the adapters once, then serve the queue's batches.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mall_writer::{App, init_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let handled = app.handle(event.payload).await;
        Ok::<SqsBatchResponse, Error>(handled.response)
    }))
    .await
}
