//! Batch grading of a class of fixture submissions: each misbehaves in its
//! own way, and the gradebook comes out as expected.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn solution(file: &str) -> String {
    std::fs::read_to_string(kit().join("solutions/src").join(file)).unwrap()
}

/// Writes `files` (name, contents) into `folder`.
fn submit(folder: &Path, files: &[(&str, String)]) {
    for (name, contents) in files {
        let path = folder.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

/// `source` with `line` inserted after the first line containing `after`.
fn insert_after(source: &str, after: &str, line: &str) -> String {
    let at = source.find(after).unwrap_or_else(|| panic!("no {after:?}"));
    let end = at + source[at..].find('\n').unwrap() + 1;
    format!("{}{line}\n{}", &source[..end], &source[end..])
}

fn all_solved() -> Vec<(&'static str, String)> {
    ["bilinear.rs", "vgg.rs", "fcn16s.rs", "fcn8s.rs", "transposed.rs", "unpooling.rs", "dilated.rs", "metrics.rs"]
        .map(|f| (f, solution(f)))
        .to_vec()
}

fn with(file: &'static str, contents: String) -> Vec<(&'static str, String)> {
    all_solved().into_iter().map(|(f, c)| if f == file { (f, contents.clone()) } else { (f, c) }).collect()
}

fn class(root: &Path) {
    let src = |files: Vec<(&str, String)>| files.into_iter().map(|(f, c)| (format!("src/{f}"), c)).collect::<Vec<_>>();
    let put = |student: &str, files: Vec<(String, String)>| {
        let files: Vec<(&str, String)> = files.iter().map(|(f, c)| (f.as_str(), c.clone())).collect();
        submit(&root.join(student), &files);
    };
    put("complete", src(all_solved()));
    put("partial", src(vec![("bilinear.rs", solution("bilinear.rs"))]));
    let broken = insert_after(&solution("fcn8s.rs"), "// BEGIN SOLUTION", "    let oops: i64 = \"not a number\";");
    put("fcn8s_does_not_compile", src(with("fcn8s.rs", broken)));
    let panics = insert_after(&solution("fcn16s.rs"), "// BEGIN SOLUTION", "    panic!(\"my FCN-16s is not done\");");
    put("fcn16s_panics", src(with("fcn16s.rs", panics)));
    let hangs = insert_after(
        &solution("fcn8s.rs"),
        "// BEGIN SOLUTION",
        "    while pool4_scale != 1.0 { std::hint::black_box(pool4_scale); }",
    );
    put("at_once_hangs", src(with("fcn8s.rs", hangs)));
    let aborts = insert_after(&solution("vgg.rs"), "// BEGIN SOLUTION", "    std::process::abort();");
    put("vgg_aborts", src(with("vgg.rs", aborts)));
    // The whole crate, with its tests emptied and its manifest broken: only
    // the exercise files count.
    let mut edited: Vec<(String, String)> =
        all_solved().into_iter().map(|(f, c)| (format!("exercises/src/{f}"), c)).collect();
    edited.push(("exercises/Cargo.toml".into(), "this is not toml".into()));
    edited.push(("exercises/tests/bilinear.rs".into(), "#[test] fn nothing() {}".into()));
    edited.push(("exercises/src/lib.rs".into(), "compile_error!(\"edited lib.rs\");".into()));
    put("edits_tests_and_manifest", edited);
}

fn batch(submissions: &Path, out: &Path) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("batch")
        .arg(submissions)
        .arg("--out")
        .arg(out)
        .args(["--skip-training", "--timeout", "20", "--kit"])
        .arg(kit())
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    output
}

/// The gradebook's columns: the core exercises, the bonus exercises, the
/// core total and maximum, the bonus and its maximum, status, notes.
const COLUMNS: [&str; 15] = [
    "student", "bilinear", "vgg", "fcn", "training", "transposed", "unpooling", "dilated", "metrics", "total", "max",
    "bonus", "bonus max", "status", "notes",
];

/// Where `column` is in a row of the gradebook.
fn at(column: &str) -> usize {
    COLUMNS.iter().position(|c| *c == column).unwrap()
}

/// The rows of the gradebook, in the order of `COLUMNS`.
fn gradebook(out: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, COLUMNS);
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

#[test]
fn a_class_of_fixtures_is_graded_into_the_expected_gradebook() {
    let folder = tempfile::tempdir().unwrap();
    let (submissions, out) = (folder.path().join("submissions"), folder.path().join("graded"));
    class(&submissions);
    let started = std::time::Instant::now();
    batch(&submissions, &out);
    eprintln!("7 submissions graded in {:.0} s", started.elapsed().as_secs_f64());

    let rows = gradebook(&out);
    let row = |student: &str| rows.iter().find(|r| r[0] == student).unwrap_or_else(|| panic!("no row for {student}"));
    // (student, bilinear, vgg, fcn, total, bonus): the bonus track is graded
    // apart and never changes the total.
    let expected = [
        ("at_once_hangs", "10", "7", "15", "32", "26"),
        ("complete", "10", "7", "16", "33", "26"),
        ("edits_tests_and_manifest", "10", "7", "16", "33", "26"),
        ("fcn16s_panics", "10", "7", "9", "26", "26"),
        ("fcn8s_does_not_compile", "10", "7", "7", "24", "26"),
        ("partial", "10", "0", "0", "10", "0"),
        ("vgg_aborts", "10", "0", "0", "10", "26"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (student, bilinear, vgg, fcn, total, bonus) in expected {
        let r = row(student);
        let got = (&r[at("bilinear")][..], &r[at("vgg")][..], &r[at("fcn")][..], &r[at("total")][..], &r[at("bonus")][..]);
        assert_eq!(got, (bilinear, vgg, fcn, total, bonus), "{student}: {r:?}");
        assert_eq!((&r[at("max")][..], &r[at("bonus max")][..]), ("33", "26"), "{student}: maxima");
    }
    let broken = row("fcn8s_does_not_compile");
    let (status, notes) = (&broken[at("status")], &broken[at("notes")]);
    assert!(status.contains("compile errors") && notes.contains("fcn8s.rs does not compile"), "{broken:?}");
    assert!(notes.contains("mismatched types") || notes.contains("error"), "the compiler's message is kept: {broken:?}");
    for student in ["complete", "partial", "vgg_aborts"] {
        assert!(out.join(student).join("results.json").exists() && out.join(student).join("results.md").exists());
    }
    let report = std::fs::read_to_string(out.join("vgg_aborts/report.txt")).unwrap();
    assert!(report.contains("crashed"), "{report}");
    let report = std::fs::read_to_string(out.join("at_once_hangs/report.txt")).unwrap();
    assert!(report.contains("timed out"), "{report}");

    // Again: every student is already graded, so nothing is rebuilt.
    let started = std::time::Instant::now();
    let again = batch(&submissions, &out);
    assert!(String::from_utf8_lossy(&again.stdout).contains("(earlier run)"));
    assert!(started.elapsed().as_secs_f64() < 30.0, "a resumed batch regraded");
    let totals = |rows: &[Vec<String>]| rows.iter().map(|r| r[at("total")].clone()).collect::<Vec<_>>();
    assert_eq!(totals(&gradebook(&out)), totals(&rows));
}
