//! The front-end stacks a generation can target, with the instructions the model gets
//! for each and how strictly its output is sanitized.

use serde::{Deserialize, Serialize};

/// A target stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stack {
    /// HTML with Tailwind from its CDN.
    HtmlTailwind,
    /// HTML with its own CSS.
    HtmlCss,
    /// HTML with Bootstrap 5.
    Bootstrap,
    /// React with Tailwind, in one HTML file (Babel in the browser).
    ReactTailwind,
    /// Vue 3 with Tailwind, in one HTML file.
    VueTailwind,
    /// Ionic with Tailwind, in one HTML file.
    IonicTailwind,
}

impl Stack {
    /// Whether the page runs its own inline scripts (an application), which decides the
    /// `html` sanitizer's mode and the preview's CSP.
    pub fn is_app(self) -> bool {
        matches!(self, Stack::ReactTailwind | Stack::VueTailwind | Stack::IonicTailwind)
    }

    /// The `html` sanitizer mode for this stack.
    pub fn html_mode(self) -> &'static str {
        if self.is_app() { "app" } else { "static" }
    }

    /// What the model is told about the stack.
    pub fn instructions(self) -> &'static str {
        match self {
            Stack::HtmlTailwind => {
                "Use HTML and Tailwind CSS. Include Tailwind with \
                 <script src=\"https://cdn.tailwindcss.com\"></script> in the head. Write no other scripts."
            }
            Stack::HtmlCss => {
                "Use HTML and CSS only, with all CSS in one <style> element in the head. Write no scripts."
            }
            Stack::Bootstrap => {
                "Use HTML and Bootstrap 5. Include it with \
                 <link rel=\"stylesheet\" href=\"https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css\">. \
                 Write no scripts."
            }
            Stack::ReactTailwind => {
                "Use React 18 and Tailwind CSS in one HTML file. Include \
                 <script src=\"https://unpkg.com/react@18/umd/react.development.js\"></script>, \
                 <script src=\"https://unpkg.com/react-dom@18/umd/react-dom.development.js\"></script>, \
                 <script src=\"https://unpkg.com/@babel/standalone/babel.js\"></script> and \
                 <script src=\"https://cdn.tailwindcss.com\"></script>, and write the app in one \
                 <script type=\"text/babel\"> element."
            }
            Stack::VueTailwind => {
                "Use Vue 3 and Tailwind CSS in one HTML file. Include \
                 <script src=\"https://unpkg.com/vue@3/dist/vue.global.js\"></script> and \
                 <script src=\"https://cdn.tailwindcss.com\"></script>, and mount the app from one inline script."
            }
            Stack::IonicTailwind => {
                "Use Ionic and Tailwind CSS in one HTML file. Include \
                 <script type=\"module\" src=\"https://cdn.jsdelivr.net/npm/@ionic/core/dist/ionic/ionic.esm.js\"></script>, \
                 <link rel=\"stylesheet\" href=\"https://cdn.jsdelivr.net/npm/@ionic/core/css/ionic.bundle.css\"> and \
                 <script src=\"https://cdn.tailwindcss.com\"></script>."
            }
        }
    }
}
