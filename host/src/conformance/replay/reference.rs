//! What a transcript says, read straight from the vendor's documented format, with no
//! plugin code: the expectation a replayed provider must meet.

use serde_json::Value;

use super::Wire;

/// The answer text and the reasoning of a streamed body.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Expected {
    pub(super) answer: String,
    pub(super) reasoning: String,
}

/// Reads `body` (a server-sent event stream) as `wire`'s documentation describes it.
pub(super) fn read(wire: Wire, body: &str) -> Expected {
    let mut expected = Expected::default();
    for (event, data) in events(body) {
        let Ok(json) = serde_json::from_str::<Value>(&data) else { continue };
        let text = |value: &Value, field: &str| value.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
        match wire {
            Wire::Openai | Wire::Azure => {
                for choice in json["choices"].as_array().into_iter().flatten() {
                    let delta = &choice["delta"];
                    expected.answer.push_str(&text(delta, "content"));
                    expected.reasoning.push_str(&text(delta, "reasoning_content"));
                    expected.reasoning.push_str(&text(delta, "reasoning"));
                }
            }
            Wire::Anthropic => {
                let kind = if event.is_empty() { text(&json, "type") } else { event };
                if kind == "content_block_delta" {
                    match json["delta"]["type"].as_str() {
                        Some("text_delta") => expected.answer.push_str(&text(&json["delta"], "text")),
                        Some("thinking_delta") => expected.reasoning.push_str(&text(&json["delta"], "thinking")),
                        _ => {}
                    }
                }
            }
            Wire::Gemini => {
                for candidate in json["candidates"].as_array().into_iter().flatten() {
                    for part in candidate["content"]["parts"].as_array().into_iter().flatten() {
                        let target =
                            if part["thought"] == true { &mut expected.reasoning } else { &mut expected.answer };
                        target.push_str(&text(part, "text"));
                    }
                }
            }
        }
    }
    expected
}

/// The `(event, data)` of each event, per the WHATWG event-stream rules: lines end at
/// CRLF, LF or CR; a blank line dispatches; one space after the colon is dropped; the
/// end of the body dispatches a last event, as the vendors' SDKs do.
fn events(body: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    let (mut event, mut data, mut has_data) = (String::new(), String::new(), false);
    let lines = body.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).flat_map(|line| line.split('\r'));
    for line in lines.chain([""]) {
        if line.is_empty() {
            if has_data {
                events.push((std::mem::take(&mut event), std::mem::take(&mut data)));
            }
            (event, data, has_data) = (String::new(), String::new(), false);
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                if has_data {
                    data.push('\n');
                }
                data.push_str(value);
                has_data = true;
            }
            "event" => event = value.to_owned(),
            _ => {}
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_follow_the_line_ending_and_space_rules() {
        let body = "event: a\r\ndata:{\"x\":1}\r\n\r\n: comment\n\ndata: one\rdata: two\r\rdata: last";
        assert_eq!(
            events(body),
            [("a".into(), "{\"x\":1}".into()), (String::new(), "one\ntwo".into()), (String::new(), "last".into())]
        );
    }
}
