//! A parser for server-sent events (`text/event-stream`), the streaming format of every
//! major LLM API.
//!
//! Bytes go in as they arrive ([`SseParser::push`]), whole events come out
//! ([`SseParser::next_event`]); an event split across reads is held until its blank
//! line arrives. Follows the WHATWG rules: `\n`, `\r\n` or `\r` end lines, lines
//! starting with `:` are comments, `data` lines of one event are joined with `\n`, a
//! single space after the colon is dropped, a byte order mark at the start of the
//! stream is ignored.

use std::collections::VecDeque;

/// One event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; empty when absent (the default type `message`).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Incremental event-stream parser.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of an unfinished line.
    line: Vec<u8>,
    /// The previous byte was `\r` (so a following `\n` is part of the same line end).
    after_cr: bool,
    current: SseEvent,
    has_data: bool,
    ready: VecDeque<SseEvent>,
    /// A line has ended (so a byte order mark can no longer come).
    past_first_line: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes as they arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_ended(&line);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
        }
    }

    /// The next complete event, if one is ready.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream (the body is over). An event whose lines all ended but whose
    /// closing blank line never came (`data: {...}\n` then end-of-body) is complete and
    /// becomes ready, so no event that arrived whole is lost. Returns whether half a
    /// line was left, i.e. the connection was cut in the middle of one; that line is
    /// dropped, never decoded.
    pub fn end(&mut self) -> bool {
        let cut = !self.line.is_empty();
        self.line.clear();
        if self.has_data {
            self.ready.push_back(std::mem::take(&mut self.current));
            self.has_data = false;
        }
        cut
    }

    fn line_ended(&mut self, line: &[u8]) {
        // A BOM can only start the first line: no byte of it is a line end, so it arrives
        // whole there however the stream was split into reads.
        let line = if self.past_first_line {
            line
        } else {
            self.past_first_line = true;
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        };
        if line.is_empty() {
            if self.has_data {
                self.ready.push_back(std::mem::take(&mut self.current));
            }
            self.current = SseEvent::default();
            self.has_data = false;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.current.event = value.into_owned(),
            b"data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(&value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            out.extend(std::iter::from_fn(|| parser.next_event()));
        }
        out
    }

    fn event(event: &str, data: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into() }
    }

    #[test]
    fn the_end_of_the_body_completes_an_event_whose_lines_ended() {
        let mut parser = SseParser::new();
        parser.push(b"event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n");
        assert_eq!(parser.next_event(), None, "no blank line yet");
        assert!(!parser.end(), "no line was cut");
        assert_eq!(parser.next_event(), Some(event("message_stop", "{\"type\":\"message_stop\"}")));

        let mut cut = SseParser::new();
        cut.push(b"data: {\"a\":1}\n\ndata: {\"b\"");
        assert!(cut.end(), "half a line was left");
        assert_eq!(cut.next_event(), Some(event("", "{\"a\":1}")));
        assert_eq!(cut.next_event(), None, "the cut line is dropped");
        assert!(!SseParser::new().end());
    }

    #[test]
    fn openai_style_stream() {
        let stream = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
        assert_eq!(events(&[stream]), [event("", "{\"a\":1}"), event("", "{\"b\":2}"), event("", "[DONE]")]);
    }

    #[test]
    fn events_split_at_every_byte_are_the_same() {
        let stream: &[u8] =
            b"event: message_start\r\ndata: {\"x\":1}\r\n\r\n: ping\r\nevent: delta\ndata: a\ndata: b\n\ndata:c\r\r";
        let whole = events(&[stream]);
        assert_eq!(whole, [event("message_start", "{\"x\":1}"), event("delta", "a\nb"), event("", "c")]);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(events(&bytes), whole);
    }

    /// Found by fuzzing (`fuzz/`, target `sse`, against a transcription of the WHATWG
    /// rules): a stream starting with a byte order mark lost its first event, whose
    /// `data` field was read as `\u{feff}data`.
    #[test]
    fn a_byte_order_mark_at_the_start_is_ignored() {
        let stream: &[u8] = b"\xEF\xBB\xBFdata: first\n\ndata: second\n\n";
        assert_eq!(events(&[stream]), [event("", "first"), event("", "second")]);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(events(&bytes), [event("", "first"), event("", "second")]);
        // Only at the start of the stream.
        assert_eq!(events(&[b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"]), [event("", "a")]);
    }

    #[test]
    fn unfinished_event_is_held() {
        let mut parser = SseParser::new();
        parser.push(b"data: partial");
        assert_eq!(parser.next_event(), None);
        parser.push(b"\n\n");
        assert_eq!(parser.next_event(), Some(event("", "partial")));
        assert!(!parser.end());
        assert_eq!(parser.next_event(), None);
    }
}
