//! The `sse` target: the server-sent-events parser.

use crate::Input;
use airlock_pdk::sse::{SseEvent, SseParser};

fn parse(chunks: &[&[u8]]) -> (Vec<SseEvent>, bool) {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        parser.push(chunk);
        events.extend(std::iter::from_fn(|| parser.next_event()));
    }
    (events, parser.has_partial_event())
}

/// The WHATWG "interpret an event stream" steps, on the whole stream at once (without
/// `id`/`retry`, which the parser does not report).
fn reference(stream: &[u8]) -> Vec<SseEvent> {
    let text = String::from_utf8_lossy(stream);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut events = Vec::new();
    let (mut event_type, mut data, mut rest) = (String::new(), String::new(), text);
    // Only lines with an end of line count: the last one, unterminated, is dropped.
    while let Some(end) = rest.find(['\r', '\n']) {
        let line = &rest[..end];
        let after = if rest[end..].starts_with("\r\n") { end + 2 } else { end + 1 };
        rest = &rest[after..];
        if line.is_empty() {
            if !data.is_empty() {
                data.pop();
                events.push(SseEvent { event: std::mem::take(&mut event_type), data: std::mem::take(&mut data) });
            }
            event_type.clear();
            data.clear();
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => event_type = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            _ => {}
        }
    }
    events
}

/// The server-sent-events parser every provider reads its vendor's stream with
/// (`airlock_pdk::sse`).
///
/// Oracles: the events do not depend on how the bytes were split into reads, and they
/// equal those of a line-by-line transcription of the WHATWG event-stream rules.
pub fn sse(data: &[u8]) {
    let input = Input::new(data);
    let stream = input.payload;
    let (whole, whole_partial) = parse(&[stream]);
    let (chunked, chunked_partial) = parse(&input.byte_chunks(stream));
    assert_eq!(whole, chunked, "the events depend on the chunking");
    assert_eq!(whole_partial, chunked_partial);
    assert_eq!(whole, reference(stream), "the events differ from the WHATWG rules");
}
