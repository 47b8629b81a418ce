//! Every piece of generated code passes the output sanitizers — `html` (in the stack's
//! mode), then `secrets` — while it streams, and once more as the finished page. The
//! user never sees a byte that did not pass both.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::stack::Stack;
use crate::chain::{ChainStream, SanitizerChain};
use crate::runtime::{CallError, Finding, SanitizeRequest, SanitizerPlugin, Stage};

/// The sanitizers every generated page passes.
#[derive(Clone)]
pub struct OutputSanitizers {
    html: Arc<SanitizerPlugin>,
    secrets: Arc<SanitizerPlugin>,
}

/// What sanitizing a whole page gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedPage {
    /// The page; empty when a sanitizer blocked it.
    pub code: String,
    /// What was removed or changed, and why.
    pub findings: Vec<Finding>,
    /// Why the page must not be shown at all, if a sanitizer said so.
    pub blocked: Option<String>,
}

impl OutputSanitizers {
    /// The pair, from the loaded sanitizers.
    pub fn new(html: Arc<SanitizerPlugin>, secrets: Arc<SanitizerPlugin>) -> Self {
        Self { html, secrets }
    }

    /// `name@version` of each sanitizer, for `x-airlock-plugins`.
    pub fn versions(&self) -> Vec<String> {
        self.chain(Stack::HtmlTailwind).versions()
    }

    fn chain(&self, stack: Stack) -> SanitizerChain {
        SanitizerChain::new(vec![(self.html.clone(), html_request(stack)), (self.secrets.clone(), secrets_request())])
    }

    /// Starts sanitizing a stream of generated text.
    ///
    /// # Errors
    ///
    /// When a sanitizer cannot start.
    pub async fn stream(&self, stack: Stack) -> Result<ChainStream, CallError> {
        self.chain(stack).stream().await
    }

    /// Sanitizes a finished page.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn page(&self, code: &str, stack: Stack) -> Result<SanitizedPage, CallError> {
        let sanitized = self.chain(stack).sanitize(code).await?;
        Ok(SanitizedPage { code: sanitized.text, findings: sanitized.findings, blocked: sanitized.blocked })
    }
}

fn html_request(stack: Stack) -> SanitizeRequest {
    let options = BTreeMap::from([("mode".to_owned(), stack.html_mode().to_owned())]);
    SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options }
}

fn secrets_request() -> SanitizeRequest {
    SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options: BTreeMap::new() }
}
