//! Request counters and latency histograms per route, rendered as Prometheus text.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::suggest::recorder::Stats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
];

#[derive(Debug, Default, Clone)]
struct Route {
    requests: u64,
    errors: u64,
    buckets: [u64; 10],
    sum_seconds: f64,
}

/// Per-route figures since start-up.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, Route>>,
}

impl Metrics {
    /// Counts one request to `route` that answered `status` after `elapsed`.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let r = routes.entry(route.to_owned()).or_default();
        r.requests += 1;
        if status >= 400 {
            r.errors += 1;
        }
        r.sum_seconds += secs;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            r.buckets[i] += 1;
        }
    }

    /// Prometheus text exposition, plus the knowledge-base size and, when the service records
    /// unanswered questions, what became of them.
    pub fn render(&self, kb_documents: u64, gaps: Option<Stats>) -> String {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut out = String::new();
        out.push_str("# HELP kefu_requests_total Requests answered, by route.\n# TYPE kefu_requests_total counter\n");
        for (route, r) in &routes {
            let _ = writeln!(
                out,
                "kefu_requests_total{{route=\"{route}\"}} {}",
                r.requests
            );
        }
        out.push_str("# HELP kefu_errors_total Requests answered with status 400 or above, by route.\n# TYPE kefu_errors_total counter\n");
        for (route, r) in &routes {
            let _ = writeln!(out, "kefu_errors_total{{route=\"{route}\"}} {}", r.errors);
        }
        out.push_str("# HELP kefu_request_duration_seconds Time to answer, by route.\n# TYPE kefu_request_duration_seconds histogram\n");
        for (route, r) in &routes {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(r.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "kefu_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "kefu_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                r.requests
            );
            let _ = writeln!(
                out,
                "kefu_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                r.sum_seconds
            );
            let _ = writeln!(
                out,
                "kefu_request_duration_seconds_count{{route=\"{route}\"}} {}",
                r.requests
            );
        }
        out.push_str("# HELP kefu_kb_documents Indexed question variants and phrase triggers.\n# TYPE kefu_kb_documents gauge\n");
        let _ = writeln!(out, "kefu_kb_documents {kb_documents}");
        if let Some(g) = gaps {
            out.push_str("# HELP kefu_gaps_recorded_total Unanswered questions written to the gap file.\n# TYPE kefu_gaps_recorded_total counter\n");
            let _ = writeln!(out, "kefu_gaps_recorded_total {}", g.recorded);
            out.push_str("# HELP kefu_gaps_unrecorded_total Unanswered questions not recorded: the queue to the gap file was full, or the write failed.\n# TYPE kefu_gaps_unrecorded_total counter\n");
            let _ = writeln!(
                out,
                "kefu_gaps_unrecorded_total{{reason=\"queue_full\"}} {}",
                g.dropped
            );
            let _ = writeln!(
                out,
                "kefu_gaps_unrecorded_total{{reason=\"write_failed\"}} {}",
                g.failed
            );
        }
        out
    }
}
