//! Which student file a failed build is about, from cargo's JSON messages.

use serde_json::Value;

use crate::submission::EXERCISE_FILES;

/// Which student files the compiler's errors are about, each with its
/// first error line. An error that involves two files (a call in one, the
/// definition in another) is the definition's: the caller uses the API as
/// the exercises define it. An error in the kit's own code (the runner, the
/// worked example) is the file of the student function it calls; `api`
/// maps each public function of the exercises to its file.
pub(super) fn blame(diagnostics: &str, api: &[(String, String)]) -> Vec<(String, String)> {
    let mut blamed: Vec<(String, String)> = Vec::new();
    for line in diagnostics.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else { continue };
        let diagnostic = &message["message"];
        if message["reason"] != "compiler-message" || diagnostic["level"] != "error" {
            continue;
        }
        let first_line = diagnostic["rendered"].as_str().unwrap_or_default().lines().next().unwrap_or_default().to_owned();
        let mut spans = Vec::new();
        collect_spans(diagnostic, &mut spans);
        let file_of = |span: &Value| {
            let path = span["file_name"].as_str().unwrap_or_default();
            EXERCISE_FILES.iter().find(|name| path.ends_with(&format!("exercises/src/{name}"))).map(|n| n.to_string())
        };
        let primary = spans.iter().find(|s| s["is_primary"] == true).cloned();
        let mut files: Vec<String> = Vec::new();
        for span in &spans {
            if let Some(file) = file_of(span).filter(|f| !files.contains(f)) {
                files.push(file);
            }
        }
        let culprits: Vec<String> = match primary.as_ref().and_then(file_of) {
            Some(own) if files.len() > 1 => files.into_iter().filter(|f| *f != own).collect(),
            Some(own) => vec![own],
            None if !files.is_empty() => files,
            None => {
                let text: String = primary
                    .iter()
                    .flat_map(|span| span["text"].as_array().into_iter().flatten())
                    .filter_map(|t| t["text"].as_str())
                    .collect();
                api.iter().filter(|(function, _)| calls(&text, function)).map(|(_, file)| file.clone()).collect()
            }
        };
        for file in culprits {
            if !blamed.iter().any(|(f, _)| *f == file) {
                blamed.push((file, first_line.clone()));
            }
        }
    }
    blamed
}

/// The spans of a diagnostic and of its notes, primary ones first.
fn collect_spans(diagnostic: &Value, out: &mut Vec<Value>) {
    out.extend(diagnostic["spans"].as_array().into_iter().flatten().cloned());
    for child in diagnostic["children"].as_array().into_iter().flatten() {
        collect_spans(child, out);
    }
}

/// Whether `text` calls `function` (its name, then an opening parenthesis).
fn calls(text: &str, function: &str) -> bool {
    text.match_indices(function).any(|(at, _)| {
        let before = text[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = text[at + function.len()..].trim_start().starts_with('(');
        before && after
    })
}

/// The public functions of the exercise files, each with its file.
pub(super) fn api_of(stubs: &[(String, String)]) -> Vec<(String, String)> {
    let mut api = Vec::new();
    for (file, source) in stubs.iter().filter(|(f, _)| EXERCISE_FILES.contains(&f.as_str())) {
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub fn ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                api.push((name, file.clone()));
            }
        }
    }
    api
}

/// The first error lines of a failed build, for a message.
pub(super) fn first_errors(diagnostics: &str) -> String {
    let mut lines: Vec<String> = diagnostics
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
        .filter_map(|m| m["message"]["rendered"].as_str().map(|r| r.lines().take(3).collect::<Vec<_>>().join("\n")))
        .take(3)
        .collect();
    if lines.is_empty() {
        lines = diagnostics.lines().filter(|l| !l.starts_with('{')).rev().take(5).map(str::to_owned).collect();
        lines.reverse();
    }
    lines.join("\n")
}
