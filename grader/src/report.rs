//! The terminal report: one row per check, then the total and the reasons.

use checks::{Check, Status};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write;

/// A check and how it ended.
#[derive(Debug)]
pub struct Graded {
    pub check: Check,
    pub status: Status,
    pub seconds: f64,
}

impl Graded {
    pub fn score(&self) -> u32 {
        if self.status.passed() { self.check.points } else { 0 }
    }
}

/// The table, the total, and what went wrong, as text.
pub fn render(target: &str, graded: &[Graded], verbose: bool) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec!["#", "exercise", "check", "status", "points"];
    if verbose {
        header.push("seconds");
    }
    table.set_header(header);
    for (number, graded) in graded.iter().enumerate() {
        let exercise = graded.check.exercise;
        let mut row = vec![
            Cell::new(number + 1).set_alignment(CellAlignment::Right),
            Cell::new(format!("{}. {}", exercise.number, exercise.id)),
            Cell::new(graded.check.name),
            Cell::new(graded.status.label()),
            Cell::new(format!("{}/{}", graded.score(), graded.check.points)).set_alignment(CellAlignment::Right),
        ];
        if verbose {
            row.push(Cell::new(format!("{:.2}", graded.seconds)).set_alignment(CellAlignment::Right));
        }
        table.add_row(row);
    }

    let score: u32 = graded.iter().map(Graded::score).sum();
    let max: u32 = graded.iter().map(|g| g.check.points).sum();
    let mut out = format!("Grading `{target}`: hidden checks\n{table}\nTotal: {score}/{max}\n");
    let details: Vec<_> = graded
        .iter()
        .enumerate()
        .filter_map(|(number, g)| g.status.detail().map(|why| (number + 1, why)))
        .collect();
    if !details.is_empty() {
        out.push_str("\nWhat went wrong:\n");
        for (number, why) in details {
            let _ = writeln!(out, "  #{number}: {why}");
        }
    }
    out
}
