//! The conversation sent to the model: our system prompt for the stack, then the
//! user's screenshots, description or code, and for an update the current code and the
//! instructions so far.

use super::stack::Stack;
use crate::runtime::{Message, Part, Role};

/// What the user gives as the starting point.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Screenshots or mockups: (media type, bytes).
    Images(Vec<(String, Vec<u8>)>),
    /// A description of the page.
    Description(String),
    /// Existing code to import and improve.
    Code(String),
}

/// An update of a page generated before.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The page as it is now.
    pub code: String,
    /// Every instruction so far, oldest first; the last is the one to apply now.
    pub history: Vec<String>,
    /// A CSS selector: change only this element.
    pub selector: Option<String>,
}

const SYSTEM: &str = "You are an expert front-end developer. You build complete, working, \
single-file web pages that match what you are shown pixel for pixel: layout, colours, fonts, \
spacing, text. Use the exact text from screenshots. For images, use https://placehold.co \
placeholders with a descriptive alt text. Do not add comments like \"<!-- rest of the page -->\": \
write the whole page. Return the full code of the page in one ```html fenced block and nothing else.";

/// The messages for a new page, or for an update of one (whose original input may be
/// left out: the current code says what the page is).
pub fn messages(
    stack: Stack,
    input: Option<&Input>,
    instructions: Option<&str>,
    update: Option<&Update>,
) -> Vec<Message> {
    let system = format!("{SYSTEM}\n\n{}", stack.instructions());
    let mut first = match input {
        None => vec![Part::Text("Here is a page you built.".to_owned())],
        Some(Input::Images(images)) => {
            let mut parts: Vec<Part> = images
                .iter()
                .map(|(media_type, data)| Part::Image { media_type: media_type.clone(), data: data.clone() })
                .collect();
            let what = if images.len() == 1 { "this screenshot" } else { "these screenshots (one page)" };
            parts.push(Part::Text(format!("Build a page that looks exactly like {what}.")));
            parts
        }
        Some(Input::Description(description)) => vec![Part::Text(format!("Build this page:\n\n{description}"))],
        Some(Input::Code(code)) => vec![Part::Text(format!(
            "Here is an existing page. Rewrite it for the requested stack, keeping how it looks and what it says.\n\n```html\n{code}\n```"
        ))],
    };
    add_instructions(&mut first, instructions);
    let mut messages = vec![text(Role::System, system), Message { role: Role::User, parts: first }];
    if let Some(update) = update {
        push_update(&mut messages, update);
    }
    messages
}

fn add_instructions(parts: &mut Vec<Part>, instructions: Option<&str>) {
    if let Some(instructions) = instructions.filter(|i| !i.trim().is_empty()) {
        parts.push(Part::Text(format!("Also: {instructions}")));
    }
}

fn push_update(messages: &mut Vec<Message>, update: &Update) {
    messages.push(text(Role::Assistant, format!("```html\n{}\n```", update.code)));
    let mut ask = String::from("Change the page as follows and return the full revised page.\n");
    if update.history.len() > 1 {
        ask.push_str("Earlier instructions, already applied:\n");
        for earlier in &update.history[..update.history.len() - 1] {
            ask.push_str(&format!("- {earlier}\n"));
        }
    }
    if let Some(latest) = update.history.last() {
        ask.push_str(&format!("Now: {latest}\n"));
    }
    if let Some(selector) = &update.selector {
        ask.push_str(&format!(
            "Change only the element matching the CSS selector `{selector}`; keep everything else exactly as it is.\n"
        ));
    }
    messages.push(text(Role::User, ask));
}

fn text(role: Role, text: String) -> Message {
    Message { role, parts: vec![Part::Text(text)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(message: &Message) -> String {
        message.parts.iter().filter_map(|p| if let Part::Text(t) = p { Some(t.as_str()) } else { None }).collect()
    }

    #[test]
    fn a_screenshot_prompt_carries_the_stack_and_the_image() {
        let input = Input::Images(vec![("image/png".into(), vec![1, 2, 3])]);
        let messages = messages(Stack::ReactTailwind, Some(&input), Some("dark mode"), None);
        assert_eq!(messages.len(), 2);
        assert!(texts(&messages[0]).contains("React 18"));
        assert!(matches!(messages[1].parts[0], Part::Image { ref data, .. } if data == &[1, 2, 3]));
        assert!(texts(&messages[1]).contains("Also: dark mode"));
    }

    #[test]
    fn an_update_sends_the_code_and_the_history() {
        let update = Update {
            code: "<h1>Hi</h1>".into(),
            history: vec!["make it blue".into(), "bigger title".into()],
            selector: Some("#hero".into()),
        };
        let messages = messages(Stack::HtmlTailwind, Some(&Input::Description("a hero".into())), None, Some(&update));
        assert_eq!(messages.len(), 4);
        assert_eq!(messages[2].role, Role::Assistant);
        let ask = texts(&messages[3]);
        assert!(
            ask.contains("- make it blue") && ask.contains("Now: bigger title") && ask.contains("`#hero`"),
            "{ask}"
        );
    }
}
