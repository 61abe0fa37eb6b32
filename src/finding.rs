//! Findings: the one diagnostic model every parser and analysis pass reports through.
//!
//! A finding has a stable kebab-case id grouped by area (`chain.*`, `auth.*`, `stripped.*`,
//! `exchange.*`, `iplist.*`, `sender.*`, `input.*`, `header.*`, `date.*`), a severity, a
//! one-line title, a detail and the evidence it rests on. Renderers only render findings.

use serde::Serialize;

/// Severity of a finding, ordered from least to most serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    /// Returns the lower-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// A piece of evidence: the header a finding rests on, where it is, and its raw value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub header: String,
    /// 1-based line number of the header field in the message, when known.
    pub line: Option<usize>,
    pub value: String,
}

/// One anomaly or observation about a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    /// Header names the finding is about (for example the headers found missing).
    pub headers: Vec<String>,
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// Creates a finding without evidence; parsers use this and the analysis adds evidence.
    pub fn new(
        id: impl Into<String>,
        severity: Severity,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) -> Finding {
        Finding {
            id: id.into(),
            severity,
            title: title.into(),
            detail: detail.into(),
            headers: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// Adds a header name to `headers`.
    pub fn with_header(mut self, name: impl Into<String>) -> Finding {
        self.headers.push(name.into());
        self
    }

    /// Adds one piece of evidence.
    pub fn with_evidence(
        mut self,
        header: impl Into<String>,
        line: Option<usize>,
        value: impl Into<String>,
    ) -> Finding {
        self.evidence.push(Evidence {
            header: header.into(),
            line,
            value: value.into(),
        });
        self
    }
}
