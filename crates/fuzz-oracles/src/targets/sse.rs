//! The `sse` target: the server-sent-events parser.

use crate::Input;
use airlock_pdk::sse::{SseEvent, SseParser};

/// The events of a whole stream, read in `chunks`: those before the body ended, the one
/// the end completed (if any), and whether half a line was left.
fn parse(chunks: &[&[u8]]) -> (Vec<SseEvent>, Option<SseEvent>, bool) {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        parser.push(chunk);
        events.extend(std::iter::from_fn(|| parser.next_event()));
    }
    let cut = parser.end();
    let completed = parser.next_event();
    assert_eq!(parser.next_event(), None, "the end completes one event at most");
    (events, completed, cut)
}

/// The WHATWG "interpret an event stream" steps, on the whole stream at once (without
/// `id`/`retry`, which the parser does not report), and at its end what the parser does
/// beyond them: the event whose lines all ended is completed, half a line reported.
fn reference(stream: &[u8]) -> (Vec<SseEvent>, Option<SseEvent>, bool) {
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
    let completed = (!data.is_empty()).then(|| {
        data.pop();
        SseEvent { event: event_type, data }
    });
    (events, completed, !rest.is_empty())
}

/// The server-sent-events parser every provider reads its vendor's stream with
/// (`airlock_pdk::sse`).
///
/// Oracles: the events, and what the end of the body completes or finds cut, do not
/// depend on how the bytes were split into reads, and they equal those of a
/// line-by-line transcription of the WHATWG event-stream rules.
pub fn sse(data: &[u8]) {
    let input = Input::new(data);
    let stream = input.payload;
    let whole = parse(&[stream]);
    let chunked = parse(&input.byte_chunks(stream));
    assert_eq!(whole, chunked, "the events depend on the chunking");
    assert_eq!(whole, reference(stream), "the events differ from the WHATWG rules");
}
