//! Traces a sandbox's lifecycle with OpenTelemetry, against the local
//! simulator (features `otel` and `testing`).
//!
//! ```text
//! cargo run --example otel --features otel
//! ```
//!
//! The application installs the SDK: a tracer provider exporting to memory
//! through a synchronous span processor, and the W3C propagator. The crate
//! only uses the OpenTelemetry API: it opens its spans through the global
//! tracer provider and adds `traceparent` to its requests through the
//! global propagator. A real application would install an OTLP or stdout
//! exporter the same way.

use std::collections::HashMap;

use daytona::testing::{ExecResult, LocalDaytona};
use daytona::{CreateSandbox, Daytona};
use opentelemetry::global;
use opentelemetry::trace::{SpanId, Tracer, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());

    let local = LocalDaytona::builder()
        .scripted()
        .on_exec("make test", ExecResult::ok("all tests passed"))
        .start()?;
    // Or DAYTONA_OTEL_ENABLED=true in the environment.
    let daytona = Daytona::new(local.config().otel_enabled(true))?;

    // The application's own span: the crate's spans continue its trace.
    let tracer = provider.tracer("ci-job");
    tracer.in_span("run-tests", |_cx| -> daytona::Result<()> {
        let mut sandbox = daytona.create(CreateSandbox::new().label("job", "ci"))?;
        let run = sandbox.process().exec("make test")?;
        println!("make test: exit code {}", run.exit_code);
        sandbox.stop()?;
        sandbox.delete()
    })?;

    provider.force_flush()?;
    print_tree(&exporter.get_finished_spans()?);
    provider.shutdown()?;
    Ok(())
}

/// Prints the spans as a tree, children in the order they started.
fn print_tree(spans: &[SpanData]) {
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    for span in spans {
        children.entry(span.parent_span_id).or_default().push(span);
    }
    for list in children.values_mut() {
        list.sort_by_key(|s| s.start_time);
    }
    fn print(span: &SpanData, depth: usize, children: &HashMap<SpanId, Vec<&SpanData>>) {
        let took = span
            .end_time
            .duration_since(span.start_time)
            .unwrap_or_default();
        let attributes: Vec<String> = span
            .attributes
            .iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        println!(
            "{:indent$}{} ({:.1} ms) {}",
            "",
            span.name,
            took.as_secs_f64() * 1e3,
            attributes.join(" "),
            indent = depth * 2
        );
        for child in children
            .get(&span.span_context.span_id())
            .into_iter()
            .flatten()
        {
            print(child, depth + 1, children);
        }
    }
    for root in children.get(&SpanId::INVALID).into_iter().flatten() {
        print(root, 0, &children);
    }
}
