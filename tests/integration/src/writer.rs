//! The mall-writer as the tests run it: the function's own code ([`mall_writer::App`]) fed by
//! the shop's real mall-write queue on the emulator, through [`EventSource`] (what Lambda's
//! event source mapping does when deployed).

use aws_config::SdkConfig;
use ichigen_aws::event_source::EventSource;
use ichigen_core::mall_write::WriteReport;
use import_orders::App as ImportApp;
use mall_writer::App;

/// The writer of one shop, with the same table, mall endpoints, settings and clock as the
/// import it follows.
pub struct Writer {
    pub app: App,
    pub source: EventSource,
}

/// What draining the queue did, every batch's report added up.
#[derive(Debug, Default)]
pub struct Drained {
    pub report: WriteReport,
    pub batches: usize,
    /// Messages the writer gave back (they wait out the visibility timeout, as deployed).
    pub failed_receipts: Vec<String>,
}

impl Drained {
    pub fn retried(&self) -> usize {
        self.report.to_retry.len()
    }

    /// `accepted` writes went through and `refused` were refused for good, none given back to
    /// the queue (a refusal is final).
    pub fn assert_accepted_and_refused(&self, accepted: usize, refused: usize) {
        let summary = self.report.summary();
        assert_eq!(self.report.accepted, accepted, "{summary}");
        assert_eq!(self.report.refused.len(), refused, "{summary}");
        assert!(
            self.failed_receipts.is_empty(),
            "a refusal is final: {summary}"
        );
    }
}

impl Writer {
    pub fn following(import: &ImportApp, sdk: &SdkConfig, write_queue_url: &str) -> Writer {
        let mut app = App::new(
            sdk,
            import.table.clone(),
            import.endpoints.clone(),
            import.client_settings.clone(),
        );
        app.clock = import.clock.clone();
        Writer {
            app,
            source: EventSource::from_sdk(sdk, write_queue_url),
        }
    }

    /// Delivers batches to the writer until the queue has nothing visible.
    pub async fn drain(&self) -> Drained {
        let mut drained = Drained::default();
        loop {
            let mut reports = Vec::new();
            let delivered = self
                .source
                .deliver(|event| async {
                    let handled = self.app.handle(event).await;
                    reports = handled.reports;
                    handled.response
                })
                .await
                .expect("the mall-write queue answers");
            let Some(delivered) = delivered else { break };
            drained.batches += 1;
            drained.failed_receipts.extend(delivered.failed);
            for report in reports {
                add(&mut drained.report, report);
            }
            assert!(drained.batches < 10_000, "a queue that never empties");
        }
        drained
    }

    /// Ends the wait of the messages the writer gave back, then drains again.
    pub async fn redeliver_and_drain(&self, failed_receipts: &[String]) -> Drained {
        self.source
            .redeliver(failed_receipts)
            .await
            .expect("visibility changed");
        self.drain().await
    }
}

fn add(total: &mut WriteReport, report: WriteReport) {
    total.store = report.store;
    total.received += report.received;
    total.accepted += report.accepted;
    total.not_needed += report.not_needed;
    total.cancelled_on_mall.extend(report.cancelled_on_mall);
    total
        .cancel_requested_on_mall
        .extend(report.cancel_requested_on_mall);
    total.refused.extend(report.refused);
    total.to_retry.extend(report.to_retry);
    total.duplicates += report.duplicates;
    total.not_owed += report.not_owed;
}
