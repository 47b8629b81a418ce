//! Finding the page in a model's answer: the first fenced code block (even one the
//! model never closed), else the document from `<!DOCTYPE`/`<html` to `</html>`, else
//! the whole answer.

/// The code in `answer`.
pub fn extract_code(answer: &str) -> String {
    if let Some(code) = fenced(answer) {
        return code.trim().to_owned();
    }
    let lower = answer.to_ascii_lowercase();
    if let Some(start) = lower.find("<!doctype").or_else(|| lower.find("<html")) {
        let end = lower.rfind("</html>").map_or(answer.len(), |at| at + "</html>".len()).max(start);
        return answer[start..end].trim().to_owned();
    }
    answer.trim().to_owned()
}

/// The contents of the first ``` block; an unclosed block runs to the end.
fn fenced(answer: &str) -> Option<&str> {
    let open = answer.find("```")?;
    let after_marker = &answer[open + 3..];
    // The rest of the opening line is the language tag.
    let body_start = after_marker.find('\n').map_or(after_marker.len(), |newline| newline + 1);
    let body = &after_marker[body_start..];
    Some(body.find("```").map_or(body, |close| &body[..close]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_found_however_it_is_wrapped() {
        let page = "<!DOCTYPE html>\n<html><body>Hi</body></html>";
        assert_eq!(extract_code(&format!("Here you go:\n```html\n{page}\n```\nEnjoy!")), page);
        assert_eq!(extract_code(&format!("```\n{page}")), page, "unclosed fence");
        assert_eq!(extract_code(&format!("Sure! {page} Hope it helps.")), page, "no fence");
        assert_eq!(extract_code("<div>just a fragment</div>\n"), "<div>just a fragment</div>");
        assert_eq!(extract_code("<HTML><body>x</body></HTML> trailing"), "<HTML><body>x</body></HTML>");
    }
}
