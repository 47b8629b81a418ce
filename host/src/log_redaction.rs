//! Every log line passes the `secrets` sanitizer's rules (natively) before it is
//! written, whatever field or format carries it: a credential that reaches a log call
//! by mistake comes out as `[REDACTED:<rule>]`. Airlock's own API keys (`ak_…`) are
//! masked too. Request bodies, images and generated code are not logged in the first
//! place; this is the net under that rule.

use std::io::{self, Write};

use airlock_sanitize_secrets::{CustomPattern, Redactor};
use tracing_subscriber::fmt::MakeWriter;

/// Airlock's API keys, as a redaction rule.
const AIRLOCK_KEY_RULE: &str = r"airlock-api-key=ak_[0-9a-f]{12}_[A-Za-z0-9_\-]{8,}";

/// Wraps a writer maker so every line it writes is redacted.
pub struct Redacting<M> {
    inner: M,
    redactor: Redactor,
}

impl<M> Redacting<M> {
    /// Redacting what `inner`'s writers receive.
    ///
    /// # Panics
    ///
    /// Never: the built-in rule is a valid pattern (tested).
    pub fn new(inner: M) -> Self {
        let airlock_keys = CustomPattern::parse(AIRLOCK_KEY_RULE).expect("the built-in rule parses");
        Self { inner, redactor: Redactor::new(vec![airlock_keys]) }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter { inner: self.inner.make_writer(), redactor: &self.redactor }
    }
}

/// One writer of [`Redacting`]: the formatter writes each event with one `write`.
pub struct RedactingWriter<'a, W> {
    inner: W,
    redactor: &'a Redactor,
}

impl<W: Write> Write for RedactingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let redacted = self.redactor.redact(&text);
        self.inner.write_all(redacted.text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn captured_logs(json: bool, emit: impl FnOnce()) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let writer = Redacting::new(move || sink.clone());
        let builder = tracing_subscriber::fmt().with_writer(writer).with_ansi(false);
        let dispatch = if json {
            tracing::Dispatch::new(builder.json().finish())
        } else {
            tracing::Dispatch::new(builder.finish())
        };
        tracing::dispatcher::with_default(&dispatch, emit);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn credentials_in_any_field_or_message_are_masked_in_text_and_json() {
        let openai = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"; // pragma: allowlist secret
        let airlock = "ak_0123456789ab_QmFzZTY0VXJsU2VjcmV0S2V5MTIzNDU2Nzg5MA"; // pragma: allowlist secret
        for json in [false, true] {
            let logs = captured_logs(json, || {
                tracing::warn!(upstream_error = %format!("bad key {openai}"), "upstream said no");
                tracing::info!(header = %format!("Bearer {airlock}"), "request");
                tracing::error!("key {airlock} in a message");
            });
            assert_eq!(logs.lines().count(), 3, "{logs}");
            for secret in [openai, airlock, &airlock[16..], &openai[8..]] {
                assert!(!logs.contains(secret), "{secret} leaked: {logs}");
            }
            assert!(logs.contains("[REDACTED:"), "{logs}");
            assert!(logs.contains("upstream said no") && logs.contains("in a message"), "{logs}");
        }
    }
}
