//! W3C trace context (`traceparent: 00-<trace id>-<parent id>-<flags>`) carried from the
//! request that caused a change, through the event's envelope and the bus, to the webhook POST
//! it ends in, so one trace id joins the logs of every hop. The context of the work in progress
//! is a task-local set by the HTTP middleware and the consumer.

use std::future::Future;

tokio::task_local! {
    static CURRENT: TraceParent;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lower-case hex characters, not all zero.
    pub trace_id: String,
    /// 16 lower-case hex characters, not all zero.
    pub parent_id: String,
    pub sampled: bool,
}

fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(bytes * 2);
    out
}

fn valid_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && text.bytes().any(|b| b != b'0')
}

impl TraceParent {
    /// A new trace.
    pub fn root() -> Self {
        Self {
            trace_id: random_hex(16),
            parent_id: random_hex(8),
            sampled: true,
        }
    }

    /// Parses a `traceparent` header value; anything malformed is `None` (W3C: start anew).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || parts.next().is_some() {
            return None;
        }
        if !valid_hex(trace_id, 32) || !valid_hex(parent_id, 16) || flags.len() != 2 {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(Self {
            trace_id: trace_id.to_string(),
            parent_id: parent_id.to_string(),
            sampled: flags & 1 == 1,
        })
    }

    /// The same trace with a new span id: what this hop passes on.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id.clone(),
            parent_id: random_hex(8),
            sampled: self.sampled,
        }
    }

    pub fn header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.parent_id,
            u8::from(self.sampled)
        )
    }
}

/// The trace of the work in progress, if any.
pub fn current() -> Option<TraceParent> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `future` as part of `trace`.
pub async fn scope<F: Future>(trace: TraceParent, future: F) -> F::Output {
    CURRENT.scope(trace, future).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_w3c_examples_and_refuses_malformed_ones() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(value).unwrap();
        assert_eq!(parsed.header(), value);
        let child = parsed.child();
        assert_eq!(child.trace_id, parsed.trace_id);
        assert_ne!(child.parent_id, parsed.parent_id);
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
        let root = TraceParent::root();
        assert!(TraceParent::parse(&root.header()).is_some());
    }
}
