//! The three reports of a run: the terminal table, Gradescope's
//! `results.json`, and a Markdown report for the instructor.

use std::fmt::Write;

use checks::training::{FIGURE_FILE, LOSS_FILE, TrainingTable};
use checks::{Exercise, Status, Track, Visibility};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};

use crate::escape;
use crate::results::{Results, RunData, TestData, TestResult};
use crate::suite::Graded;

/// What the run was, for the reports' headers.
#[derive(Debug, Clone)]
pub struct Run {
    /// What was graded: `exercises`, `solutions`, or a student's name.
    pub target: String,
    /// `cpu` or `cuda`.
    pub device: String,
    pub seed: i64,
    pub seconds: f64,
    pub graded: Vec<Graded>,
    /// What the staged-training check measured, when it ran.
    pub training: Option<TrainingTable>,
    /// What the grader did with the submission's files (a file put back to
    /// its stub, and why), and whether it ran unsandboxed.
    pub notes: Vec<String>,
    /// Whether the student's code ran in the sandbox.
    pub sandboxed: bool,
    /// The seed of the checks' random cases (`--cases` repeats them).
    pub cases: u64,
}

impl Run {
    /// The core score: the bonus track never changes it.
    pub fn score(&self) -> u32 {
        self.track_total(Track::Core).0
    }

    pub fn max_score(&self) -> u32 {
        self.track_total(Track::Core).1
    }

    /// The bonus track's (score, maximum), or `None` when none of its checks ran.
    pub fn bonus(&self) -> Option<(u32, u32)> {
        self.graded.iter().any(|g| g.exercise.track == Track::Bonus).then(|| self.track_total(Track::Bonus))
    }

    fn track_total(&self, track: Track) -> (u32, u32) {
        self.total_of(|g| g.exercise.track == track)
    }

    /// The core checks of one visibility: (score, maximum).
    fn subtotal(&self, visibility: Visibility) -> (u32, u32) {
        self.total_of(|g| g.visibility == visibility && g.exercise.track == Track::Core)
    }

    /// (score, maximum) of the rows `keep` keeps.
    fn total_of(&self, keep: impl Fn(&Graded) -> bool) -> (u32, u32) {
        let rows = self.graded.iter().filter(|g| keep(g));
        rows.fold((0, 0), |(s, m), g| (s + g.score(), m + g.max_score()))
    }

    /// The exercises, in order, each with its score and maximum.
    fn exercises(&self) -> Vec<(Exercise, u32, u32)> {
        let mut exercises: Vec<(Exercise, u32, u32)> = Vec::new();
        for g in &self.graded {
            match exercises.iter_mut().find(|(e, _, _)| *e == g.exercise) {
                Some((_, score, max)) => {
                    *score += g.score();
                    *max += g.max_score();
                }
                None => exercises.push((g.exercise, g.score(), g.max_score())),
            }
        }
        exercises
    }

    /// Exercises where a check was attempted and did not pass: the ones a
    /// hint may help with.
    fn stuck(&self) -> Vec<Exercise> {
        let mut stuck: Vec<Exercise> = Vec::new();
        for g in &self.graded {
            let attempted_and_failed = !matches!(g.status, Status::Passed | Status::NotAttempted | Status::Skipped(_));
            if attempted_and_failed && !stuck.contains(&g.exercise) {
                stuck.push(g.exercise);
            }
        }
        stuck
    }
}

/// `3. fcn`, or `5. transposed (bonus)`.
fn exercise_label(exercise: &Exercise) -> String {
    match exercise.track {
        Track::Core => format!("{}. {}", exercise.number, exercise.id),
        Track::Bonus => format!("{}. {} (bonus)", exercise.number, exercise.id),
    }
}

fn visibility_label(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => "public",
        Visibility::Hidden => "hidden",
    }
}

/// The table, the total, what went wrong, and where to find hints.
pub fn terminal(run: &Run, verbose: bool) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec!["#", "exercise", "check", "kind", "status", "points"];
    if verbose {
        header.push("seconds");
    }
    table.set_header(header);
    for (number, g) in run.graded.iter().enumerate() {
        let mut row = vec![
            Cell::new(number + 1).set_alignment(CellAlignment::Right),
            Cell::new(exercise_label(&g.exercise)),
            Cell::new(g.name),
            Cell::new(visibility_label(g.visibility)),
            Cell::new(g.status.label()),
            Cell::new(format!("{}/{}", g.score(), g.max_score())).set_alignment(CellAlignment::Right),
        ];
        if verbose {
            row.push(Cell::new(format!("{:.2}", g.seconds)).set_alignment(CellAlignment::Right));
        }
        table.add_row(row);
    }

    let (public, public_max) = run.subtotal(Visibility::Public);
    let (hidden, hidden_max) = run.subtotal(Visibility::Hidden);
    let mut out = format!("Grading `{}`\n{table}\n", escape::one_line(&run.target));
    let _ = writeln!(
        out,
        "Total: {}/{} (public checks {public}/{public_max}, hidden checks {hidden}/{hidden_max})",
        run.score(),
        run.max_score()
    );
    if let Some((bonus, bonus_max)) = run.bonus() {
        let _ = writeln!(out, "Bonus: {bonus}/{bonus_max} (the bonus track, not part of the total)");
    }
    if verbose {
        let _ = writeln!(out, "Device {}, seed {}, cases {}, {:.1} s", run.device, run.seed, run.cases, run.seconds);
    }
    if let Some(table) = &run.training {
        out.push('\n');
        out.push_str(&table.markdown());
    }
    if !run.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for note in &run.notes {
            let _ = writeln!(out, "  {}", escape::one_line(note));
        }
    }
    let details: Vec<_> =
        run.graded.iter().enumerate().filter_map(|(n, g)| g.status.detail().map(|why| (n + 1, g, why))).collect();
    if !details.is_empty() {
        out.push_str("\nDetails:\n");
        for (number, g, why) in details {
            let _ = writeln!(out, "  #{number} {}: {}", g.status.label(), escape::plain(&why));
        }
    }
    for exercise in run.stuck() {
        if !exercise.hints().is_empty() {
            let _ = writeln!(
                out,
                "\nStuck on exercise {} ({})? `cargo course hint {}` gives hints, one at a time.",
                exercise.number, exercise.title, exercise.id
            );
        }
    }
    out
}

/// Gradescope's autograder `results.json`: hidden checks are shown to
/// students after the due date, public ones at once.
pub fn gradescope(run: &Run) -> Results {
    let tests = run
        .graded
        .iter()
        .enumerate()
        .map(|(n, g)| {
            let output = match g.status.detail() {
                Some(detail) => format!("{}: {}", g.status.label(), escape::plain(&detail)),
                None => g.status.label().to_owned(),
            };
            let track = if g.exercise.track == Track::Bonus { "bonus" } else { "core" };
            let mut tags = vec![g.exercise.id.to_owned(), g.status.label().to_owned()];
            if g.exercise.track == Track::Bonus {
                tags.push("bonus".to_owned());
            }
            TestResult {
                name: format!("{}. {}: {}", g.exercise.number, g.exercise.title, g.name),
                number: format!("{}.{}", g.exercise.number, n + 1),
                score: g.score(),
                max_score: g.max_score(),
                status: if g.status.passed() { "passed" } else { "failed" }.to_owned(),
                output,
                tags,
                visibility: match g.visibility {
                    Visibility::Public => "visible",
                    Visibility::Hidden => "after_due_date",
                }
                .to_owned(),
                extra_data: TestData {
                    exercise: g.exercise.id.to_owned(),
                    track: track.to_owned(),
                    check_status: g.status.label().to_owned(),
                    check: g.name.to_owned(),
                },
            }
        })
        .collect();
    let (bonus_score, bonus_max_score) = run.bonus().unwrap_or((0, 0));
    Results {
        score: run.score(),
        max_score: run.max_score(),
        extra_data: RunData { bonus_score, bonus_max_score, sandboxed: run.sandboxed, notes: run.notes.clone() },
        execution_time: (run.seconds * 10.0).round() / 10.0,
        output: std::iter::once(format!("Graded `{}` on {} (seed {}, cases {}).", run.target, run.device, run.seed, run.cases))
            .chain(run.notes.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n"),
        visibility: "visible".to_owned(),
        stdout_visibility: "hidden".to_owned(),
        tests,
    }
}

/// The instructor's report: per exercise, per check, with each failure's
/// reason and the end of what the check printed.
pub fn markdown(run: &Run) -> String {
    let mut out = format!("# Grading report: {}\n\n", escape::inline(&run.target));
    let _ = writeln!(
        out,
        "Score **{}/{}**. Device {}, seed {}, random cases {} (`--cases {}` repeats them), {:.1} s.\n",
        run.score(),
        run.max_score(),
        run.device,
        run.seed,
        run.cases,
        run.cases,
        run.seconds
    );
    if let Some((bonus, bonus_max)) = run.bonus() {
        let _ = writeln!(out, "Bonus track **{bonus}/{bonus_max}**, not part of the score.\n");
    }
    for note in &run.notes {
        let _ = writeln!(out, "- {}", escape::inline(note));
    }
    if !run.notes.is_empty() {
        out.push('\n');
    }
    out.push_str("| exercise | score |\n|---|---|\n");
    for (exercise, score, max) in run.exercises() {
        let bonus = if exercise.track == Track::Bonus { " (bonus)" } else { "" };
        let _ = writeln!(out, "| {}. {}{bonus} | {score}/{max} |", exercise.number, exercise.title);
    }
    out.push_str("\n| # | exercise | check | kind | status | points | seconds |\n|---|---|---|---|---|---|---|\n");
    for (n, g) in run.graded.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {}/{} | {:.2} |",
            n + 1,
            g.exercise.id,
            g.name,
            visibility_label(g.visibility),
            g.status.label(),
            g.score(),
            g.max_score(),
            g.seconds
        );
    }
    if let Some(table) = &run.training {
        out.push_str("\n## Training\n\n");
        out.push_str(&table.markdown());
        let _ = writeln!(
            out,
            "\n![Predictions on validation images: image, ground truth, FCN-32s, FCN-16s, FCN-8s (the student's)]({FIGURE_FILE})\n\n\
             Rows: validation images; columns: the image, its ground truth, then the student's FCN-32s, FCN-16s \
             and FCN-8s predictions, in VOC's colours (void in cream).\n\n\
             ![Loss per step]({LOSS_FILE})\n\n\
             Loss per step, the three stages end to end: the student's in red, the reference's in blue (drawn over the red where the two runs agree)."
        );
    }
    let failed: Vec<_> = run.graded.iter().enumerate().filter(|(_, g)| g.status.detail().is_some()).collect();
    if !failed.is_empty() {
        out.push_str("\n## Details\n");
        for (n, g) in failed {
            let _ = writeln!(out, "\n### #{} {} ({})\n", n + 1, g.name, g.status.label());
            let _ = writeln!(out, "{}", escape::fenced(&g.status.detail().unwrap_or_default(), "text"));
            if !g.output.trim().is_empty() {
                let _ = writeln!(out, "\nThe end of what it printed:\n\n{}", escape::fenced(&g.output, "text"));
            }
        }
    }
    out
}
