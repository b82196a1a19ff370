//! The grader binary, run as an instructor runs it.

use std::path::Path;
use std::process::{Command, Output};

use fcn_train::reference_losses;
use fcn_train::train::Record;

use crate::common::{Need, kit, machine_has};
use crate::results::Results;

/// Runs the grader with `args`, with no `LD_LIBRARY_PATH`: the binary must
/// find libtorch through its rpath.
fn grader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("the grader binary starts")
}

/// Runs the grader and asserts that it exits with 0.
fn grader_ok(args: &[&str]) -> String {
    let output = grader(args);
    assert!(
        output.status.success(),
        "grader {args:?} exited with {}:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the report is UTF-8")
}

/// Reads a Gradescope results.json through the grader's own typed record
/// (strictly: a field missing, extra or of the wrong type is an error) and
/// checks its values and sums.
fn results(path: &Path) -> Results {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    let json: Results = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a results record: {e}", path.display()));
    for test in &json.tests {
        assert!(["passed", "failed"].contains(&test.status.as_str()), "{test:?}");
        assert!(["visible", "after_due_date"].contains(&test.visibility.as_str()), "{test:?}");
        assert!(test.score <= test.max_score, "{test:?}");
        assert_eq!(test.is_bonus(), test.tags.iter().any(|tag| tag == "bonus"), "{test:?}");
        assert_eq!(test.tags[..2], [test.extra_data.exercise.clone(), test.extra_data.check_status.clone()], "{test:?}");
    }
    let sum = |bonus: bool| json.tests.iter().filter(|t| t.is_bonus() == bonus).map(|t| t.score).sum::<u32>();
    assert_eq!(sum(false), json.score, "the score is the sum of the core tests' scores");
    assert_eq!(sum(true), json.extra_data.bonus_score, "the bonus is the sum of the bonus tests' scores");
    json
}

fn statuses(json: &Results) -> Vec<(String, String)> {
    json.tests.iter().map(|t| (t.name.clone(), t.extra_data.check_status.clone())).collect()
}

#[test]
fn reference_scores_full_marks() {
    let folder = tempfile::tempdir().unwrap();
    let json_path = folder.path().join("s.json");
    let report = grader_ok(&["--target", "solutions", "--skip-training", "--json", json_path.to_str().unwrap()]);
    let json = results(&json_path);
    assert_eq!(json.score, json.max_score, "{json:?}");
    assert!(json.max_score > 0);
    assert!(folder.path().join("s.md").exists(), "the Markdown report is written beside results.json");
    // The bonus track: its own tests and total, outside the core score.
    let bonus_checks = checks::bonus::checks::<checks::Solutions>();
    assert_eq!(json.tests.iter().filter(|t| t.is_bonus()).count(), bonus_checks.len(), "every bonus test is on the bonus track");
    let bonus_max: u32 = bonus_checks.iter().map(|c| c.points).sum();
    assert_eq!((json.extra_data.bonus_score, json.extra_data.bonus_max_score), (bonus_max, bonus_max), "{json:?}");
    let report = report.replace(json_path.to_str().unwrap(), "s.json").replace(folder.path().join("s.md").to_str().unwrap(), "s.md");
    insta::assert_snapshot!(report);
}

#[test]
fn stubs_score_zero_with_every_check_not_attempted() {
    let folder = tempfile::tempdir().unwrap();
    let json_path = folder.path().join("results.json");
    let report = grader_ok(&["--json", json_path.to_str().unwrap()]);
    let json = results(&json_path);
    assert_eq!(json.score, 0, "{json:?}");
    let checks = checks::full_suite::<checks::Solutions>().len();
    let statuses = statuses(&json);
    let not_attempted = statuses.iter().filter(|(_, s)| s == "not attempted").count();
    assert_eq!(not_attempted, checks, "{statuses:?}");
    assert!(statuses.iter().all(|(_, s)| s == "not attempted" || s == "skipped"), "{statuses:?}");
    assert!(report.contains("Total: 0/"), "{report}");
    assert!(report.contains("Bonus: 0/"), "{report}");
    assert_eq!(json.extra_data.bonus_score, 0, "{json:?}");
    assert!(!report.contains("Stuck on"), "no hints for exercises not attempted yet:\n{report}");
}

/// Someone else's code is never run outside the sandbox unless the
/// instructor asks; the grader stops first and says what is missing.
#[test]
fn grading_others_without_a_sandbox_stops_with_what_is_missing() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("bilinear.rs"), "pub fn nothing() {}").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("--submission")
        .arg(folder.path())
        .env("FCN_GRADER_BWRAP", "/nonexistent/bwrap")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bubblewrap") && stderr.contains("--unsandboxed"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("batch")
        .arg(folder.path())
        .env("FCN_GRADER_BWRAP", "/nonexistent/bwrap")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
}

/// A build that blocks forever (rustc reading its own output pipe) is
/// stopped at `--build-timeout` with its whole sandbox: the file is graded as
/// not attempted, and the grader finishes. Before, the grader signalled a
/// process group that was not the sandbox's, then waited for ever.
#[test]
fn a_build_that_blocks_on_its_own_output_ends_at_the_build_timeout() {
    if !machine_has(Need::Sandbox, "a build that blocks is stopped with its sandbox") {
        return;
    }
    let stub = std::fs::read_to_string(kit().join("exercises/src/bilinear.rs")).unwrap();
    let blocks = format!("{stub}\nconst _BLOCKS: &[u8] = include_bytes!(\"/proc/self/fd/1\");\n");
    let started = std::time::Instant::now();
    // The test's own limit: the grader's build tree (prepared by the first
    // test that needs it, minutes) and two builds of 20 s at most.
    let (json, _) = grade_watching_memory(&[("bilinear.rs", blocks)], &["--only", "bilinear", "--build-timeout", "20"], 900);
    let notes = json.extra_data.notes.join("\n");
    assert!(notes.contains("bilinear.rs") && notes.contains("did not finish in 20 s"), "{notes}");
    eprintln!("the blocked build was stopped; grading took {:.0} s", started.elapsed().as_secs_f64());
}

/// Grades `files` (name, contents) with `args`, within `limit` seconds;
/// returns the results and the grader's own peak memory (VmHWM, KiB),
/// read from /proc while it runs (its runner is another process).
fn grade_watching_memory(files: &[(&str, String)], args: &[&str], limit: u64) -> (Results, u64) {
    let folder = tempfile::tempdir().unwrap();
    let src = folder.path().join("student/src");
    std::fs::create_dir_all(&src).unwrap();
    for (name, contents) in files {
        std::fs::write(src.join(name), contents).unwrap();
    }
    let json_path = folder.path().join("results.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("--submission")
        .arg(folder.path().join("student"))
        .args(args)
        .arg("--json")
        .arg(&json_path)
        .env_remove("LD_LIBRARY_PATH")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let started = std::time::Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let status = std::fs::read_to_string(&status_file).unwrap_or_default();
        let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok());
        peak = peak.max(hwm.unwrap_or(0));
        if started.elapsed().as_secs() > limit {
            let _ = child.kill();
            panic!("grader {args:?} did not finish within {limit} s: something stalls it");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    (results(&json_path), peak)
}

/// A student's runner chooses sizes only within what the grader asked for:
/// a bilinear layer of another stride than asked (before: the grader's own
/// check built a map from it, 1.77 GB for a stride of 2474) and a VGG16
/// that lists a gigabyte of trainable parameters more than a network can
/// have (before: allocated by the grader, under a cap of 400 million
/// elements for any network: measured 1.97 GB at the grader's peak against
/// 0.98 GB for the reference's files; now refused before any allocation).
/// Each check fails, and the grader's peak memory stays the reference's.
#[test]
fn sizes_a_runner_chooses_cannot_grow_the_graders_memory() {
    if !machine_has(Need::Sandbox, "a runner's replies are held to their requests") {
        return;
    }
    let bilinear = crate::common::solution("bilinear.rs");
    let strided = bilinear.replacen("pub fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {",
        "pub fn bilinear_upsampling(path: &nn::Path, channels: i64, stride: i64) -> FixedUpsampling {\n    let stride = stride.max(2474);", 1);
    assert_ne!(strided, bilinear, "bilinear_upsampling's signature is where the test expects it");
    let vgg = crate::common::solution("vgg.rs");
    let hoards = vgg.replacen("    // BEGIN SOLUTION\n", "    // BEGIN SOLUTION\n    if config.width_divisor == 1 { let _ = path.zeros(\"hoard\", &[1 << 24, 15]); }\n", 1);
    assert_ne!(hoards, vgg, "vgg16's body is where the test expects it");
    let args = ["--skip-training"];
    // Exercises 1 and 2 alone are graded from these files; the others stay stubs.
    let (honest, honest_peak) = grade_watching_memory(&[("bilinear.rs", bilinear), ("vgg.rs", vgg)], &args, 600);
    let (hostile, hostile_peak) = grade_watching_memory(&[("bilinear.rs", strided), ("vgg.rs", hoards)], &args, 600);
    let failed = |json: &Results| json.tests.iter().filter(|t| t.status == "failed" && ["bilinear", "vgg"].contains(&t.extra_data.exercise.as_str())).map(|t| t.extra_data.check.clone()).collect::<Vec<_>>();
    assert!(failed(&honest).is_empty(), "{:?}", failed(&honest));
    let hostile_failed = failed(&hostile);
    for check in ["layer keeps a constant map constant", "layer interpolates bilinearly", "parameter count at full width"] {
        assert!(hostile_failed.iter().any(|c| c == check), "{check} passed: {hostile_failed:?}");
    }
    eprintln!("the grader's peak memory: {honest_peak} KiB grading the reference's files, {hostile_peak} KiB grading the hostile ones");
    assert!(hostile_peak <= honest_peak + honest_peak / 10, "{hostile_peak} KiB against {honest_peak} KiB");
}

/// Dropout left on in eval mode, graded through the runner: each pass gets
/// a seed of its own, eval mode included (before, every eval pass was
/// seeded alike, the masks were the same twice, and the public check
/// passed).
#[test]
fn dropout_left_on_in_eval_mode_is_caught_through_the_runner() {
    if !machine_has(Need::Sandbox, "dropout left on in eval is caught through the runner") {
        return;
    }
    let vgg = crate::common::solution("vgg.rs").replace("dropout(0.5, train)", "dropout(0.5, true)");
    assert_eq!(vgg.matches("dropout(0.5, true)").count(), 2, "vgg16's dropouts are where the test expects them");
    let (json, _) = grade_watching_memory(&[("vgg.rs", vgg)], &["--only", "vgg"], 600);
    let check = json.tests.iter().find(|t| t.extra_data.check == "dropout in training only").unwrap();
    assert_eq!(check.extra_data.check_status, "wrong", "{check:?}");
    assert!(check.output.contains("dropout is on in eval mode"), "{}", check.output);
}

#[test]
fn fc7_detached_in_training_is_caught_through_the_runner() {
    if !machine_has(Need::Sandbox, "fc7 detached in training is caught through the runner") {
        return;
    }
    // Right in eval mode, right values in training mode: only gradients in
    // training mode, under the reference's masks, show it.
    let fcn8s = crate::common::solution("fcn8s.rs").replace(
        "features.fc7.apply(&score_fr)",
        "(if train { features.fc7.detach() } else { features.fc7.shallow_clone() }).apply(&score_fr)",
    );
    assert_eq!(fcn8s.matches("features.fc7.detach()").count(), 1, "FCN-8s reads fc7 where the test expects it");
    let given = ["bilinear.rs", "vgg.rs", "align.rs", "fcn16s.rs"].map(|name| (name, crate::common::solution(name)));
    let files: Vec<(&str, String)> = given.into_iter().chain([("fcn8s.rs", fcn8s)]).collect();
    let (json, _) = grade_watching_memory(&files, &["--only", "fcn", "--skip-training"], 600);
    let status = |name: &str| {
        let check = json.tests.iter().find(|t| t.extra_data.check.starts_with(name)).unwrap_or_else(|| panic!("no check {name}"));
        (check.extra_data.check_status.clone(), check.output.clone())
    };
    let (training, why) = status("FCN-16s, FCN-8s, FCN-8s at once: same output and parameter gradients");
    assert_eq!(training, "wrong", "{why}");
    assert!(why.contains("FCN-8s in training mode") && why.contains("no gradient reaches"), "{why}");
    assert_eq!(status("FCN-8s: same parameter gradients").0, "passed");
    assert_eq!(status("FCN-8s: gradient reaches conv1_1").0, "passed");
}

#[test]
fn a_loss_with_the_right_values_and_no_gradient_is_caught_through_the_runner() {
    if !machine_has(Need::Sandbox, "a detached loss is caught through the runner") {
        return;
    }
    // Right values everywhere; only its gradient, asked of the runner,
    // shows that nothing could train with it.
    let loss = crate::common::solution("loss.rs")
        .replace("    total / labelled.sum(Kind::Float).clamp_min(1.0)", "    (total / labelled.sum(Kind::Float).clamp_min(1.0)).detach()");
    assert!(loss.contains(".clamp_min(1.0)).detach()"), "the loss ends where the test expects it");
    let (json, _) = grade_watching_memory(&[("loss.rs", loss)], &["--only", "training", "--skip-training"], 600);
    let status = |name: &str| {
        let check = json.tests.iter().find(|t| t.extra_data.check.starts_with(name)).unwrap_or_else(|| panic!("no check {name}"));
        (check.extra_data.check_status.clone(), check.output.clone())
    };
    let (random, why) = status("loss: random scores and labels");
    assert_eq!(random, "wrong", "{why}");
    assert!(why.contains("no gradient reaches the scores"), "{why}");
    assert_eq!(status("loss: extreme scores").0, "passed", "its values are right");
}

#[test]
fn list_shows_every_check_with_points() {
    let list = grader_ok(&["--list"]);
    for check in checks::full_suite::<checks::Solutions>() {
        assert!(list.contains(check.name), "{} missing from --list:\n{list}", check.name);
    }
    let total: u32 = checks::suite::<checks::Solutions>().iter().map(|c| c.points).sum();
    assert!(list.contains(&format!("Total: {total} points")), "{list}");
    let bonus: u32 = checks::bonus::checks::<checks::Solutions>().iter().map(|c| c.points).sum();
    assert!(list.contains(&format!("Bonus: {bonus} points, not part of the total")), "{list}");
}

#[test]
fn only_grades_one_exercise_named_or_numbered() {
    let folder = tempfile::tempdir().unwrap();
    for name in ["vgg", "2"] {
        let json_path = folder.path().join(format!("{name}.json"));
        grader_ok(&["--target", "solutions", "--only", name, "--json", json_path.to_str().unwrap()]);
        let json = results(&json_path);
        assert!(!json.tests.is_empty());
        assert!(json.tests.iter().all(|t| t.extra_data.exercise == "vgg"), "{json:?}");
        assert_eq!(json.score, json.max_score);
    }
}

#[test]
fn a_bonus_exercise_alone_scores_on_the_bonus_line() {
    let folder = tempfile::tempdir().unwrap();
    let json_path = folder.path().join("metrics.json");
    let report = grader_ok(&["--target", "solutions", "--only", "metrics", "--json", json_path.to_str().unwrap()]);
    let json = results(&json_path);
    assert!(!json.tests.is_empty() && json.tests.iter().all(|t| t.extra_data.exercise == "metrics" && t.is_bonus()), "{json:?}");
    assert_eq!((json.score, json.max_score), (0, 0), "the core score is untouched");
    assert_eq!(json.extra_data.bonus_score, json.extra_data.bonus_max_score);
    assert!(report.contains("Total: 0/0") && report.contains("Bonus: 6/6"), "{report}");
}

#[test]
fn an_unknown_exercise_is_an_error_naming_the_exercises() {
    let output = grader(&["--only", "fcn32", "--list"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no exercise \"fcn32\"") && stderr.contains("bilinear (1)"), "{stderr}");

    // So does a class's run (before it prepares the runner's build tree).
    let class = tempfile::tempdir().unwrap();
    std::fs::create_dir(class.path().join("alice")).unwrap();
    let out = class.path().join("out");
    let output = grader(&["batch", class.path().to_str().unwrap(), "--only", "fcn32", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no exercise \"fcn32\""), "{stderr}");
}

#[test]
fn hints_teach_without_the_answer() {
    let hints = grader_ok(&["hint", "bilinear"]);
    assert!(hints.starts_with("Exercise 1: the bilinear upsampling filter"), "{hints}");
    assert!(hints.contains("1. ") && hints.contains("2. "), "{hints}");
    // The answer's formula is in the reference, not the hints.
    for answer in ["factor - 1", "factor - 0.5", "div_ceil", "zeros_no_train"] {
        assert!(!hints.contains(answer), "a hint gives away {answer:?}: {hints}");
    }
    assert_eq!(grader(&["hint", "nope"]).status.code(), Some(2));
}

#[test]
fn a_report_that_cannot_be_written_is_exit_status_2() {
    let folder = tempfile::tempdir().unwrap();
    let blocker = folder.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let json_path = blocker.join("results.json");
    let output = grader(&["--only", "bilinear", "--json", json_path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Total: 0/"), "the table is printed before the files: {stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot create"));
}

#[test]
fn help_documents_the_statuses_and_exit_status() {
    let help = grader_ok(&["--help"]);
    assert!(help.contains("Exit status: 0 when grading completed"), "{help}");
    for option in ["--target", "--only", "--list", "--device", "--skip-training", "--seed", "--timeout", "--json"] {
        assert!(help.contains(option), "{option} missing from --help");
    }
    assert!(help.contains("crashed") && help.contains("timed out") && help.contains("skipped"), "{help}");
}

/// The GPU's budget, tested where there is no GPU: the paper's width,
/// trained for two steps (of two images) per stage on the CPU through the
/// sandboxed runner,
/// as a GPU grading trains it (the network resident in the runner, the data
/// and the weights in pieces within the protocol's frames). The reference
/// gets full marks.
#[test]
fn the_gpu_budget_trains_through_the_runner_on_the_cpu() {
    if !machine_has(Need::Sandbox, "the GPU budget trains through the runner") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let json_path = folder.path().join("results.json");
    let started = std::time::Instant::now();
    let report = grader_ok(&[
        "--target", "solutions", "--only", "training", "--device", "cpu", "--training-budget", "gpu", "--training-steps", "2",
        "--training-batch", "2", "--training-images", "4", "--json", json_path.to_str().unwrap(),
    ]);
    let json = results(&json_path);
    assert!(json.max_score > 0 && json.score == json.max_score, "{report}");
    assert!(report.contains("gpu, full width, run on the cpu, cut short; 2 steps of 2 images per stage, 4 train and 1 val images of 128x128"), "{report}");
    eprintln!("the GPU budget's dry run took {:.0} s", started.elapsed().as_secs_f64());
}

/// A runner built on one machine is graded on another (a GPU node without
/// Rust): `--build-only` builds it, `--runner` grades with it and builds
/// nothing, and a runner built from other files than those graded is
/// refused before anything runs.
#[test]
fn a_runner_built_apart_grades_the_files_it_was_built_from_and_no_others() {
    if !machine_has(Need::Sandbox, "a runner built apart is graded") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let built = folder.path().join("built");
    let said = grader_ok(&["--target", "solutions", "--build-only", built.to_str().unwrap()]);
    assert!(said.contains("Built the runner of solutions in"), "{said}");
    assert!(built.join("runner").is_file() && built.join("build.json").is_file());
    let json_path = folder.path().join("results.json");
    let report = grader_ok(&[
        "--target", "solutions", "--runner", built.to_str().unwrap(), "--only", "bilinear", "--json", json_path.to_str().unwrap(),
    ]);
    let json = results(&json_path);
    assert!(json.max_score > 0 && json.score == json.max_score, "{report}");

    let other = folder.path().join("other/src");
    std::fs::create_dir_all(&other).unwrap();
    for file in crate::common::exercise_files() {
        std::fs::write(other.join(file), crate::common::solution(file)).unwrap();
    }
    std::fs::write(other.join("bilinear.rs"), crate::common::solution("bilinear.rs") + "\n// changed\n").unwrap();
    let output = grader(&["--submission", other.parent().unwrap().to_str().unwrap(), "--runner", built.to_str().unwrap(), "--only", "bilinear"]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("built from other files"), "{stderr}");
}

/// A student whose networks segment the synthetic set by hand once out of
/// training (nearest class colour, smoothed), and learn nothing in training,
/// gets no training point: the grader scores the weights the runner trained,
/// in the reference's networks, and the runner's predictions disagree with
/// them. (Scored on the runner's own predictions, as the grader once did,
/// this submission got the staged check's 4 points at these two steps per
/// stage.)
#[test]
fn networks_that_segment_by_hand_instead_of_training_get_no_training_point() {
    if !machine_has(Need::Sandbox, "a faking runner gets no training point") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let src = folder.path().join("student/src");
    std::fs::create_dir_all(&src).unwrap();
    for file in crate::common::exercise_files() {
        std::fs::write(src.join(file), crate::common::solution(file)).unwrap();
    }
    // FCN-32s is the worked example, not the student's: FCN-16s and FCN-8s fake.
    for name in ["fcn16s", "fcn8s"] {
        let file = format!("{name}.rs");
        let honest = crate::common::solution(&file).replace(&format!("pub fn {name}("), &format!("fn honest_{name}("));
        let faking = format!(
            "{honest}\npub fn {name}(path: &nn::Path, config: FcnConfig) -> nn::FuncT<'static> {{\n    \
             let honest = honest_{name}(path, config);\n    nn::func_t(move |xs, train| if train {{ \
             tch::nn::ModuleT::forward_t(&honest, xs, true) * 0.0 }} else {{ by_colour(xs, config.classes) }})\n}}\n{BY_COLOUR}"
        );
        std::fs::write(src.join(file), faking).unwrap();
    }
    let json_path = folder.path().join("results.json");
    let student = folder.path().join("student");
    let report = grader_ok(&[
        "--submission", student.to_str().unwrap(), "--only", "training", "--device", "cpu", "--training-steps", "2",
        "--json", json_path.to_str().unwrap(),
    ]);
    let json = results(&json_path);
    // Exercise 4's loss is honest (the reference's); its training checks get nothing.
    let training: u32 = json.tests.iter().filter(|t| !t.extra_data.check.starts_with("loss:")).map(|t| t.score).sum();
    assert_eq!(training, 0, "{report}");
    let staged = json.tests.iter().find(|t| t.name.contains("trained in stages")).expect("the staged check");
    assert_eq!(staged.extra_data.check_status, "wrong", "{staged:?}");
    assert!(staged.output.contains("validation pixels") && staged.output.contains("not what it trained"), "{staged:?}");
}

/// The faking submission's segmenter: each pixel's class is the class colour
/// nearest the image's colour around it (the synthetic set paints each class
/// around a colour of its own).
const BY_COLOUR: &str = r#"
fn by_colour(xs: &tch::Tensor, classes: i64) -> tch::Tensor {
    use tch::{Kind, Tensor};
    let mean = Tensor::from_slice(&[104.00699f32, 116.66877, 122.67892]).view([1, 3, 1, 1]).to_device(xs.device());
    let bgr = xs * 58.0 + mean;
    let smooth = bgr.avg_pool2d([9, 9], [1, 1], [4, 4], false, false, None);
    let colours: [f32; 15] = [100.0, 110.0, 110.0, 50.0, 60.0, 200.0, 190.0, 90.0, 50.0, 40.0, 200.0, 230.0, 80.0, 170.0, 60.0];
    let centres = Tensor::from_slice(&colours).view([1, 5, 3, 1, 1]).to_device(xs.device());
    let distance = (smooth.unsqueeze(1) - centres).square().sum_dim_intlist(2, false, Kind::Float);
    let size = distance.size();
    let rest = Tensor::full([size[0], (classes - 5).max(0), size[2], size[3]], -1e9, (Kind::Float, xs.device()));
    Tensor::cat(&[-distance, rest], 1).narrow(1, 0, classes)
}
"#;

/// The training checks on CPU, as CI runs them: the reference passes both
/// (staged training, and learning the real photos by heart), and the run
/// leaves the paper's table and pictures beside the report.
#[test]
fn reference_passes_the_training_check_with_its_table_and_pictures() {
    let folder = tempfile::tempdir().unwrap();
    let json_path = folder.path().join("results.json");
    let started = std::time::Instant::now();
    let report = grader_ok(&[
        "--target", "solutions", "--only", "training", "--device", "cpu", "--json", json_path.to_str().unwrap(),
    ]);
    let seconds = started.elapsed().as_secs_f64();
    let json = results(&json_path);
    assert_eq!(json.score, json.max_score, "{report}");
    assert!(json.max_score > 0);
    for file in ["training.json", "figure4.png", "loss.png", "results.md"] {
        assert!(folder.path().join(file).exists(), "{file} was not written");
    }
    let markdown = std::fs::read_to_string(folder.path().join("results.md")).unwrap();
    assert!(markdown.contains("](figure4.png)") && markdown.contains("](loss.png)"), "{markdown}");
    assert!(report.contains("| reference | FCN-8s |") && report.contains("cpu, width / 16"), "{report}");

    let table: checks::training::TrainingTable =
        serde_json::from_str(&std::fs::read_to_string(folder.path().join("training.json")).unwrap()).unwrap();
    let iu = |network: &str| {
        table.rows.iter().find(|r| r.implementation == "reference" && r.network == network).unwrap().scores.mean_iu
    };
    assert!(iu("FCN-8s") >= iu("FCN-32s"), "FCN-8s is worse than FCN-32s on the synthetic set: {report}");
    // The students' Figure 4 run draws the reference's losses from a file;
    // the check just trained the reference with the same budget and seed.
    // A long run of SGD is chaotic across processors: the file holds this
    // run to its first steps closely and to its trend after
    // (fcn_train::reference_losses).
    let kept = reference_losses::read(&kit()).unwrap_or_else(|e| panic!("{e}"));
    let ours: Vec<Record> = table
        .rows
        .iter()
        .filter(|r| r.implementation == "reference")
        .map(|r| Record { network: r.network.clone(), losses: r.losses.clone(), seconds: r.seconds, images_per_second: 0.0 })
        .collect();
    let held = reference_losses::check_first_steps(&ours[0].losses, &kept).and_then(|()| reference_losses::check_trend(&ours, &kept));
    if let Err(why) = held {
        panic!(
            "{why}\n{} does not hold for the reference's training: if the reference or the training changed, write it \
             again with FCN_WRITE_REFERENCE_VALUES=$PWD cargo run -p solutions --example reference_figure4",
            reference_losses::FILE
        );
    }
    assert!(report.contains("real VOC photos") && !report.contains("skipped"), "{report}");
    eprintln!("the training checks took {seconds:.0} s");
}
