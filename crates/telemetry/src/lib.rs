//! Logging and tracing for every service: JSON lines on stdout (each line of a request carries
//! its `request_id` through the request span), filtered by `RUST_LOG` or the configured level,
//! and an OTLP/HTTP trace exporter that is off unless `CLIENTSTOR_TELEMETRY__OTLP_ENDPOINT` is set.

use clientstor_config::TelemetrySettings;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Flushes pending spans when dropped; keep it alive for the life of the process.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

fn tracer_provider(
    service: &str,
    settings: &TelemetrySettings,
) -> Result<Option<SdkTracerProvider>, String> {
    let Some(endpoint) = settings.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| format!("OTLP exporter: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_string())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sample_ratio,
        ))))
        .with_resource(resource)
        .build();
    Ok(Some(provider))
}

/// Installs the global subscriber. Call once at start; a second call (tests) is a no-op.
pub fn init(service: &str, settings: &TelemetrySettings) -> Result<TelemetryGuard, String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_level))
        .map_err(|e| format!("setting CLIENTSTOR_TELEMETRY__LOG_LEVEL: {e}"))?;
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .with_writer(std::io::stdout);
    let provider = tracer_provider(service, settings)?;
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(service.to_string()))
            .boxed()
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(otel)
        .try_init();
    Ok(TelemetryGuard { provider })
}

/// Makes `span` a child of the remote span `parent_id` in trace `trace_id` (W3C hex ids), so
/// that exported spans of every hop share the trace. Without an exporter it changes nothing.
pub fn link(span: &tracing::Span, trace_id: &str, parent_id: &str) {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let (Ok(trace), Ok(parent)) = (TraceId::from_hex(trace_id), SpanId::from_hex(parent_id)) else {
        return;
    };
    let remote = SpanContext::new(
        trace,
        parent,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
}
