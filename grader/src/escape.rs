//! Student-controlled text (panic messages, what a check printed, a
//! folder's name, a compiler's notes on a student's file), made safe for
//! where it goes: it reads as what it is, and never as part of the report
//! around it. A student who writes "Score 33/33" into a panic message gets
//! that text shown as their panic message, not a forged line of the report.

/// `text` without control characters but newlines and tabs: no escape
/// sequence reaches a terminal (to move the cursor or repaint a line).
pub fn plain(text: &str) -> String {
    text.chars().filter(|&c| c == '\n' || c == '\t' || !c.is_control()).collect()
}

/// `text` on one line, for a terminal or a single-line field.
pub fn one_line(text: &str) -> String {
    plain(text).split(['\n', '\t']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A Markdown code block holding `text` literally: its fence is longer than
/// any run of backticks inside, so nothing inside can close it, and
/// Markdown renders neither emphasis nor HTML inside a code block.
pub fn fenced(text: &str, info: &str) -> String {
    let text = plain(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{}\n{fence}", text.trim_end())
}

/// `text` as inline Markdown, also fit for a table's cell: one line, HTML's
/// special characters as entities, Markdown's punctuation escaped.
pub fn inline(text: &str) -> String {
    let mut out = String::new();
    for c in one_line(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A gradebook cell that a spreadsheet shows as text, never runs as a
/// formula: one that starts with `=`, `+`, `-`, `@` (or a tab or carriage
/// return) gets a leading apostrophe, as OWASP advises for CSV files.
pub fn cell(text: &str) -> String {
    let text = one_line(text);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_outlasts_any_backticks_inside() {
        let forged = "boom\n```\n\nScore **33/33**\n````\n";
        let block = fenced(forged, "text");
        assert!(block.starts_with("`````text\n") && block.ends_with("\n`````"), "{block}");
        assert_eq!(fenced("plain", ""), "```\nplain\n```");
    }

    #[test]
    fn inline_text_cannot_open_html_a_comment_or_a_cell() {
        let forged = "x | <b>y</b> <!-- hide\n# Score";
        let text = inline(forged);
        assert!(!text.contains('<') && !text.contains('\n'), "{text}");
        assert!(text.contains("\\|") && text.contains("\\#"), "{text}");
    }

    #[test]
    fn control_characters_go() {
        assert_eq!(plain("a\u{1b}[2Kb\r\nc\td"), "a[2Kb\nc\td");
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }

    #[test]
    fn formulas_stay_text() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"] {
            assert!(cell(formula).starts_with('\'') || !cell(formula).starts_with(['=', '+', '-', '@']), "{formula:?}");
        }
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("alice"), "alice");
    }
}
