//! A class graded in one `grader batch --jobs 2` run: honest students beside
//! students who attack the grader, each in one of the ways a student could
//! try to get points without solving, or to change a classmate's row. The
//! honest ones get exactly their scores; every attack gets nothing on the
//! exercise it targets; nothing is written into the kit or into OUT but the
//! grader's own files; no process the students started survives.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Need, exercise_files, kit, machine_has, solution};
use crate::results::Results;

fn stub(file: &str) -> String {
    std::fs::read_to_string(kit().join("exercises/src").join(file)).unwrap()
}

/// `source` with `line` inserted after the first line containing `after`.
fn insert_after(source: &str, after: &str, line: &str) -> String {
    let at = source.find(after).unwrap_or_else(|| panic!("no {after:?}"));
    let end = at + source[at..].find('\n').unwrap() + 1;
    format!("{}{line}\n{}", &source[..end], &source[end..])
}

/// The stub `source` with the `todo!` of function `name` replaced by `body`.
fn with_body(source: &str, name: &str, body: &str) -> String {
    let at = source.find(&format!("pub fn {name}(")).unwrap_or_else(|| panic!("no function {name}"));
    let todo = at + source[at..].find("todo!(").unwrap();
    let end = todo + source[todo..].find('\n').unwrap();
    format!("{}{body}{}", &source[..todo], &source[end..])
}

fn all_solved() -> Vec<(&'static str, String)> {
    exercise_files().into_iter().map(|f| (f, solution(f))).collect()
}

fn with(file: &'static str, contents: String) -> Vec<(&'static str, String)> {
    all_solved().into_iter().map(|(f, c)| if f == file { (f, contents.clone()) } else { (f, c) }).collect()
}

fn put(root: &Path, student: &str, files: &[(&str, String)]) {
    for (name, contents) in files {
        let path = root.join(student).join("src").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

/// What no file written by the grader ever holds, and the survivor's mark.
const FORGED: &str = "FORGED-BY-A-STUDENT";
const SURVIVOR: &str = "31337.5";
/// How many processes the fork bomb tries to start: more than the runner's
/// limit.
const FORKS: i64 = 3000;

/// The bonus files of a student whose every bonus function misbehaves in
/// its own way, and attacks what it can reach: `kit` and `out` are the real
/// folders, written into the attack as a student who knows the layout would.
fn misbehaving_bonus(kit: &Path, out: &Path) -> Vec<(&'static str, String)> {
    let (kit, out) = (kit.display(), out.display());
    let transposed = stub("transposed.rs");
    let transposed = with_body(&transposed, "insert_zeros", r#"panic!("index 7 out of range for slice of length 3")"#);
    let transposed = with_body(
        &transposed,
        "conv_transpose_by_zero_insertion",
        "tch::Tensor::zeros([2, 2], tch::kind::FLOAT_CPU).matmul(&tch::Tensor::zeros([3, 3], tch::kind::FLOAT_CPU))",
    );
    let transposed = with_body(&transposed, "convolution_matrix", "std::process::abort()");
    let transposed = with_body(
        &transposed,
        "conv_transpose_by_matrix",
        "#[allow(unconditional_recursion)] fn deep(n: u64) -> u64 { let frame = std::hint::black_box([n; 64]); deep(n + 1) + frame[3] } \
         std::hint::black_box(deep(0)); unreachable!()",
    );
    let unpooling = stub("unpooling.rs");
    let unpooling = with_body(&unpooling, "nearest_unpool", "loop { std::hint::black_box(factor); }");
    let unpooling = with_body(
        &unpooling,
        "bed_of_nails_unpool",
        "let mut hoard: Vec<Vec<u8>> = Vec::new(); loop { hoard.push(vec![1; 64 << 20]); std::hint::black_box(&hoard); }",
    );
    let unpooling = with_body(&unpooling, "max_unpool", r#"loop { println!("{}", "debug output ".repeat(100)); }"#);
    let dilated = stub("dilated.rs");
    let dilated = with_body(&dilated, "spread_filter", "std::process::exit(0)");
    let dilated = with_body(
        &dilated,
        "dilated_conv2d",
        // Claims success on every stream, and answers a shape no drawn case
        // has (the grading's cases are fresh: input's own shape can be right).
        r##"println!("test result: ok. 1 passed; 0 failed"); println!("{}", r#"{"status":"passed"}"#); eprintln!("passed"); input.zeros_like().flatten(0, -1)"##,
    );
    // Stop the parent, leave a process behind, start processes until the
    // limit stops it (a fork bomb that keeps count), and answer that count.
    let dilated = with_body(
        &dilated,
        "receptive_field",
        &format!(
            "use std::os::unix::process::CommandExt; \
             let _ = std::process::Command::new(\"sleep\").arg(\"{SURVIVOR}\").process_group(0).spawn(); \
             let _ = std::process::Command::new(\"sh\").args([\"-c\", &format!(\"kill -STOP {{}}\", std::os::unix::process::parent_id())]).status(); \
             let mut started = 0; \
             while started < {FORKS} && std::process::Command::new(\"sleep\").arg(\"5\").spawn().is_ok() {{ started += 1; }} \
             let _ = layers; started"
        ),
    );
    // Forge classmates' results, plant a cargo configuration wherever a
    // later build would read it, and read the reference.
    let targets = [
        format!("{out}/complete/results.json"),
        format!("{out}/complete/grading.json"),
        format!("{out}/gradebook.csv"),
        format!("{out}/canary.txt"),
        format!("{out}/.cargo/config.toml"),
        format!("{out}/../.cargo/config.toml"),
        format!("{kit}/.cargo/config.toml"),
        format!("{kit}/target/grader/runner/sandboxed/template/.cargo-home/config.toml"),
        format!("{kit}/target/grader/runner/sandboxed/template/exercises/src/vgg.rs"),
        "/build/.cargo-home/config.toml".to_owned(),
        "/tmp/fcn-attack.txt".to_owned(),
    ];
    let metrics = stub("metrics.rs");
    let metrics = with_body(
        &metrics,
        "confusion_matrix",
        &format!(
            "for path in {targets:?} {{ let path = std::path::Path::new(path); \
             let _ = std::fs::create_dir_all(path.parent().unwrap()); \
             let _ = std::fs::write(path, \"{FORGED} [build]\\nrustc-wrapper = \\\"/bin/true\\\"\\n\"); }} \
             let _ = (truth, prediction); Array2::zeros((classes, classes))"
        ),
    );
    let reads = format!(
        "let reference = std::fs::read_to_string(\"{kit}/solutions/src/metrics.rs\").expect(\"the reference is readable\"); \
         let _ = hist; reference.len() as f64"
    );
    let metrics = ["pixel_accuracy", "mean_accuracy", "mean_iu", "frequency_weighted_iu"]
        .iter()
        .fold(metrics, |source, name| with_body(&source, name, &reads));
    vec![("transposed.rs", transposed), ("unpooling.rs", unpooling), ("dilated.rs", dilated), ("metrics.rs", metrics)]
}

fn class(root: &Path, out: &Path) {
    let kit = kit();
    // Honest students.
    put(root, "complete", &all_solved());
    put(root, "partial", &[("bilinear.rs", solution("bilinear.rs"))]);
    let broken = insert_after(&solution("fcn8s.rs"), "// BEGIN SOLUTION", "    let oops: i64 = \"not a number\";");
    put(root, "fcn8s_does_not_compile", &with("fcn8s.rs", broken));
    let panics = insert_after(&solution("fcn16s.rs"), "// BEGIN SOLUTION", "    panic!(\"my FCN-16s is not done\");");
    put(root, "fcn16s_panics", &with("fcn16s.rs", panics));
    let hangs = insert_after(
        &solution("fcn8s.rs"),
        "// BEGIN SOLUTION",
        "    while pool4_scale != 1.0 { std::hint::black_box(pool4_scale); }",
    );
    put(root, "at_once_hangs", &with("fcn8s.rs", hangs));
    // A signature that no longer fits: the error shows where vgg16 is called
    // (FCN-16s, FCN-8s, the worked example), but vgg.rs is at fault.
    let changed = solution("vgg.rs").replace("pub fn vgg16(path: &nn::Path, config: FcnConfig)", "pub fn vgg16(path: &nn::Path, config: FcnConfig, _extra: bool)");
    assert_ne!(changed, solution("vgg.rs"), "vgg16's signature is where the test expects it");
    put(root, "changes_a_signature", &with("vgg.rs", changed));
    // A wrong network: told which named layer differs first.
    let off_by_one = solution("fcn16s.rs").replace("crop(&fine, &coarse, pool4_offset)", "crop(&fine, &coarse, pool4_offset + 1)");
    assert_ne!(off_by_one, solution("fcn16s.rs"), "FCN-16s's crop is where the test expects it");
    put(root, "fcn16s_crop_off_by_one", &with("fcn16s.rs", off_by_one));
    let aborts = insert_after(&solution("vgg.rs"), "// BEGIN SOLUTION", "    std::process::abort();");
    put(root, "vgg_aborts", &with("vgg.rs", aborts));
    // The whole crate, with its tests emptied and its manifest broken: only
    // the exercise files count.
    let folder = root.join("edits_tests_and_manifest/exercises");
    put(&root.join("edits_tests_and_manifest"), "exercises", &all_solved());
    std::fs::write(folder.join("Cargo.toml"), "this is not toml").unwrap();
    std::fs::create_dir_all(folder.join("tests")).unwrap();
    std::fs::write(folder.join("tests/bilinear.rs"), "#[test] fn nothing() {}").unwrap();
    std::fs::write(folder.join("src/lib.rs"), "compile_error!(\"edited lib.rs\");").unwrap();

    // Attackers. The core exercises of the misbehaving student are honest.
    let mut misbehaving = all_solved();
    misbehaving.retain(|(f, _)| !["transposed.rs", "unpooling.rs", "dilated.rs", "metrics.rs"].contains(f));
    misbehaving.extend(misbehaving_bonus(&kit, out));
    put(root, "misbehaves_and_attacks_at_run_time", &misbehaving);
    // Reads the reference and the hidden checks when compiled.
    let bilinear = with_body(
        &stub("bilinear.rs"),
        "bilinear_filter",
        &format!("panic!(\"{{}}\", include_str!(\"{}/checks/src/check.rs\"))", kit.display()),
    );
    let vgg = format!(
        "{}\n#[path = \"{}/solutions/src/vgg.rs\"]\nmod answer;\n",
        with_body(&stub("vgg.rs"), "vgg16", "answer::vgg16(path, config)"),
        kit.display()
    );
    put(root, "reads_the_reference", &[&with("bilinear.rs", bilinear)[..1], &[("vgg.rs", vgg)]].concat());
    let mut reads = all_solved();
    reads.retain(|(f, _)| !["bilinear.rs", "vgg.rs"].contains(f));
    put(root, "reads_the_reference", &reads);
    // Code that runs before main, and a symbol that replaces the C library's.
    let constructor = format!(
        "{}\n#[unsafe(link_section = \".init_array\")]\n#[used]\nstatic BEFORE_MAIN: extern \"C\" fn() = before_main;\n\
         extern \"C\" fn before_main() {{ std::process::exit(0) }}\n#[unsafe(no_mangle)]\npub extern \"C\" fn getpid() -> i32 {{ 1 }}\n",
        solution("vgg.rs")
    );
    put(root, "runs_code_before_main", &with("vgg.rs", constructor));
    // A file that is a link to the reference's.
    put(root, "links_to_the_reference", &with("vgg.rs", stub("vgg.rs")));
    let link = root.join("links_to_the_reference/src/vgg.rs");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(kit.join("solutions/src/vgg.rs"), &link).unwrap();
    // "From scratch" with libtorch's own operations, by the ways a list of
    // its names would miss: a helper in another exercise file, another
    // spelling (`_out`), a parenthesised path. (The direct calls and the
    // other ways are the screen's unit tests.)
    let helper = "\npub fn spread(input: &Tensor, weight: &Tensor, stride: [i64; 2], padding: [i64; 2]) -> Tensor {\n    \
                  input.conv_transpose2d(weight, None::<Tensor>, stride, padding, [0, 0], 1, [1, 1])\n}\n";
    let bilinear = format!("{}{helper}", solution("bilinear.rs"));
    let transposed = with_body(&stub("transposed.rs"), "conv_transpose_by_zero_insertion", "crate::bilinear::spread(input, weight, stride, padding)");
    let transposed = with_body(&transposed, "conv_transpose_by_matrix", "crate::bilinear::spread(input, weight, stride, padding)");
    let unpooling = with_body(
        &stub("unpooling.rs"),
        "nearest_unpool",
        "let [n, c, h, w] = input.size()[..] else { unreachable!() }; \
         let out = Tensor::zeros([n, c, h * factor, w * factor], (input.kind(), input.device())); \
         input.upsample_nearest2d_out(&out, [h * factor, w * factor], None, None)",
    );
    let unpooling = with_body(
        &unpooling,
        "max_unpool",
        "let [n, c, _, _] = input.size()[..] else { unreachable!() }; \
         let out = Tensor::zeros([n, c, output_size[0], output_size[1]], (input.kind(), input.device())); \
         input.max_unpool2d_out(&out, indices, output_size)",
    );
    let dilated = with_body(
        &stub("dilated.rs"),
        "dilated_conv2d",
        "(Tensor::conv2d)(input, weight, None::<Tensor>, stride, padding, dilation, 1)",
    );
    let mut borrows = all_solved();
    borrows.retain(|(f, _)| !["bilinear.rs", "transposed.rs", "unpooling.rs", "dilated.rs"].contains(f));
    borrows.extend([("bilinear.rs", bilinear), ("transposed.rs", transposed), ("unpooling.rs", unpooling), ("dilated.rs", dilated)]);
    put(root, "calls_libtorch_from_scratch", &borrows);
    // Remembers what a hidden check asked (only the odd-size check asks for
    // a filter of size 63) and tells it in a public one (only the weight
    // layout check asks for upsampling_weight(5, 16)), whose message the
    // student sees at once.
    let remembers = insert_after(
        &solution("bilinear.rs"),
        "pub fn bilinear_filter(",
        "    if size == 63 { SEEN_63.store(true, std::sync::atomic::Ordering::SeqCst); }",
    );
    let remembers = insert_after(
        &remembers,
        "pub fn upsampling_weight(",
        "    if (channels, size) == (5, 16) && SEEN_63.load(std::sync::atomic::Ordering::SeqCst) { \
         panic!(\"LEAKED: a hidden check asked for a filter of size 63\") }",
    );
    let remembers = format!("{remembers}\npub static SEEN_63: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);\n");
    put(root, "remembers_hidden_checks", &with("bilinear.rs", remembers));
    // A build that never ends: a constant evaluated forever.
    let endless = format!(
        "#![allow(long_running_const_eval)]\n{}\npub const FOREVER: u64 = {{ let mut i = 0u64; while i < u64::MAX {{ i += 1; }} i }};\n",
        solution("dilated.rs")
    );
    put(root, "builds_forever", &with("dilated.rs", endless));
}

fn batch(submissions: &Path, out: &Path) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("batch")
        .arg(submissions)
        .arg("--out")
        .arg(out)
        // Each check's limit: several times the slowest honest check's time
        // (FCN dropout's passes of three networks, 5 to 8 s alone), for two
        // students at once beside students who spin.
        .args(["--jobs", "2", "--skip-training", "--timeout", "40", "--memory-limit", "2048"])
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

/// Every file below `folder` (no links followed), with its contents.
fn files(folder: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            found.extend(files(&path));
        } else if meta.is_file() {
            found.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
        }
    }
    found
}

/// The command lines of this machine's processes.
fn processes() -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .collect()
}

#[test]
fn honest_students_get_their_scores_and_every_attack_gets_nothing() {
    if !machine_has(Need::Sandbox, "grader batch grades a class") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let (submissions, out) = (folder.path().join("submissions"), folder.path().join("graded"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("canary.txt"), "the instructor's").unwrap();
    class(&submissions, &out);
    let kit_sources = ["solutions", "checks", "exercises", ".cargo"]
        .map(|f| files(&kit().join(f)));
    let started = std::time::Instant::now();
    batch(&submissions, &out);
    let students = std::fs::read_dir(&submissions).unwrap().count();
    eprintln!("{students} submissions graded in {:.0} s (--jobs 2)", started.elapsed().as_secs_f64());

    let rows = gradebook(&out);
    let row = |student: &str| rows.iter().find(|r| r[0] == student).unwrap_or_else(|| panic!("no row for {student}"));
    // (student, bilinear, vgg, fcn, total, bonus): the total includes the
    // loss (exercise 4, 5 points; its training checks are skipped); the
    // vgg column includes fully_connected_as_conv (4 points; vgg_aborts
    // aborts in vgg16 only, so it keeps them); the
    // bonus track is graded apart and never changes the total.
    let expected = [
        ("at_once_hangs", "10", "15", "23", "53", "26"),
        ("builds_forever", "10", "15", "28", "58", "19"),
        ("calls_libtorch_from_scratch", "10", "15", "28", "58", "6"),
        ("changes_a_signature", "10", "0", "6", "21", "26"),
        ("complete", "10", "15", "28", "58", "26"),
        ("edits_tests_and_manifest", "10", "15", "28", "58", "26"),
        ("fcn16s_crop_off_by_one", "10", "15", "24", "54", "26"),
        ("fcn16s_panics", "10", "15", "17", "47", "26"),
        ("fcn8s_does_not_compile", "10", "15", "14", "44", "26"),
        ("links_to_the_reference", "10", "0", "6", "21", "26"),
        ("misbehaves_and_attacks_at_run_time", "10", "15", "28", "58", "0"),
        ("partial", "10", "0", "0", "10", "0"),
        ("reads_the_reference", "0", "0", "6", "11", "26"),
        ("runs_code_before_main", "10", "0", "6", "21", "26"),
        ("vgg_aborts", "10", "4", "6", "25", "26"),
    ];
    assert_eq!(rows.len(), expected.len() + 1, "{rows:?}");
    for (student, bilinear, vgg, fcn, total, bonus) in expected {
        let r = row(student);
        let got = (&r[at("bilinear")][..], &r[at("vgg")][..], &r[at("fcn")][..], &r[at("total")][..], &r[at("bonus")][..]);
        if got != (bilinear, vgg, fcn, total, bonus) {
            // Which checks it lost, and why, for whoever reads the failure.
            let results: Results =
                serde_json::from_str(&std::fs::read_to_string(out.join(student).join("results.json")).unwrap()).unwrap();
            let lost: Vec<String> =
                results.tests.iter().filter(|t| t.status == "failed").map(|t| format!("{}: {}", t.name, t.output)).collect();
            panic!("{student}: {got:?}, expected {:?}; it lost {lost:#?}", (bilinear, vgg, fcn, total, bonus));
        }
        assert_eq!((&r[at("max")][..], &r[at("bonus max")][..]), ("58", "26"), "{student}: maxima");
    }
    let notes = |student: &str| row(student)[at("notes")].clone();
    for (student, says) in [
        ("fcn8s_does_not_compile", "fcn8s.rs does not compile"),
        ("reads_the_reference", "bilinear.rs does not compile"),
        ("reads_the_reference", "vgg.rs does not compile"),
        ("runs_code_before_main", "vgg.rs uses `unsafe`"),
        ("links_to_the_reference", "vgg.rs is a symbolic link"),
        ("calls_libtorch_from_scratch", "transposed.rs calls `crate::bilinear::spread`, but this exercise builds a transposed convolution from scratch"),
        ("calls_libtorch_from_scratch", "unpooling.rs calls the method `.upsample_nearest2d_out(...)`"),
        ("calls_libtorch_from_scratch", "dilated.rs takes `Tensor::conv2d` as a value"),
        ("builds_forever", "dilated.rs turns off the compiler's limit"),
    ] {
        assert!(notes(student).contains(says), "{student}: {:?} does not say {says:?}", notes(student));
    }
    assert!(!notes("fcn8s_does_not_compile").contains("vgg.rs"), "only the broken file is blamed");
    let changed = notes("changes_a_signature");
    assert!(changed.contains("vgg.rs does not compile"), "{changed}");
    assert!(!changed.contains("fcn16s.rs") && !changed.contains("fcn8s.rs"), "a caller is blamed: {changed}");

    // What a hidden check sent never reaches a public check: a runner that
    // served a hidden check serves no public one.
    let remembered: Results =
        serde_json::from_str(&std::fs::read_to_string(out.join("remembers_hidden_checks/results.json")).unwrap()).unwrap();
    let told: Vec<_> = remembered.tests.iter().filter(|t| t.visibility == "visible" && t.output.contains("LEAKED")).collect();
    assert!(told.is_empty(), "a public check told what a hidden one asked: {told:?}");
    assert_eq!(row("remembers_hidden_checks")[at("bilinear")], "10", "the exercise it attacks through is right");

    // Each run-time misbehaviour is graded with its status, by the grader.
    let results: Results =
        serde_json::from_str(&std::fs::read_to_string(out.join("misbehaves_and_attacks_at_run_time/results.json")).unwrap())
            .unwrap();
    let status_of = |check: &str| {
        let test = results.tests.iter().find(|t| t.extra_data.check == check);
        let test = test.unwrap_or_else(|| panic!("no check {check:?}"));
        (test.extra_data.check_status.clone(), test.output.clone())
    };
    for (check, status, says) in [
        ("zero insertion: the docs' examples", "panicked", "index 7 out of range"),
        ("zero insertion equals conv_transpose2d, random cases", "panicked", "cannot be multiplied"),
        ("convolution matrix of the lecture's 3-tap kernel", "crashed", "aborted"),
        ("transposed matrix equals conv_transpose2d, random cases", "crashed", "stack overflow"),
        ("nearest neighbour: random maps and factors", "timed out", "stopped after 40 s"),
        ("bed of nails: random maps and factors", "crashed", "ran out of memory"),
        ("max-unpooling equals max_unpool2d, random cases", "crashed", "more than 16 MiB of output"),
        ("spread filter: the docs' example", "crashed", "exited with status 0"),
        ("dilated convolution equals conv2d's dilation, random cases", "wrong", "shape"),
        ("receptive field of VGG16 up to fc6 is the paper's 404", "wrong", "receptive field"),
        ("the docs' worked example", "wrong", ""),
        ("the four scores: random label maps", "panicked", "the reference is readable"),
    ] {
        let (got, output) = status_of(check);
        assert_eq!(got, status, "{check}: {output}");
        assert!(output.contains(says), "{check}: {output:?} does not say {says:?}");
        assert!(!output.contains("frame #"), "{check}: libtorch's backtrace is cut: {output}");
    }

    // The layers a student's network names come back from the runner, and
    // the reason names the first that differs.
    let wrong: Results =
        serde_json::from_str(&std::fs::read_to_string(out.join("fcn16s_crop_off_by_one/results.json")).unwrap()).unwrap();
    let said = wrong.tests.iter().find(|t| t.extra_data.check.starts_with("FCN-16s: same output"));
    let said = &said.unwrap().output;
    assert!(said.contains("The first named layer that differs is score_pool4c"), "{said}");

    // The fork bomb started nothing: the runner's seccomp filter allows
    // threads, no process (and the process limit of 512 stands behind it).
    let (_, said) = status_of("receptive field of VGG16 up to fc6 is the paper's 404");
    let started: i64 = said.split("receptive field ").nth(1).and_then(|r| r.split(',').next()).unwrap().parse().unwrap();
    assert_eq!(started, 0, "the fork bomb started {started} processes: the runner may start none");

    // Nothing of the hidden checks' source reaches a report.
    for (path, contents) in files(&out) {
        let text = String::from_utf8_lossy(&contents);
        let leaked = text.contains("Hidden checks for exercise 2") || text.contains("fn vgg_same_features");
        assert!(!leaked && !text.contains(FORGED), "{} holds what it must not", path.display());
    }
    // OUT holds the grader's files and nothing else; the kit is untouched.
    let allowed = ["results.json", "results.md", "report.txt", "grading.json", "gradebook.csv", "canary.txt"];
    for (path, _) in files(&out) {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(allowed.contains(&name.as_ref()), "{} was written into OUT", path.display());
    }
    assert_eq!(std::fs::read_to_string(out.join("canary.txt")).unwrap(), "the instructor's");
    let now = ["solutions", "checks", "exercises", ".cargo"]
        .map(|f| files(&kit().join(f)));
    assert!(now == kit_sources, "the kit's sources changed during grading");
    assert!(!kit().join("target/grader/runner/sandboxed/template/.cargo-home/config.toml").exists()
        || !std::fs::read_to_string(kit().join("target/grader/runner/sandboxed/template/.cargo-home/config.toml")).unwrap().contains(FORGED));
    assert!(!Path::new("/tmp/fcn-attack.txt").exists(), "the sandbox's /tmp is its own");
    // No process of a student's outlives their grading.
    let survivors: Vec<String> = processes().into_iter().filter(|p| p.contains(SURVIVOR)).collect();
    assert!(survivors.is_empty(), "processes survived: {survivors:?}");

    // The same class as a Slurm job array: the same gradebook.
    if machine_has(Need::Slurm, "grader batch --slurm grades the class on a one-node cluster") {
        slurm_grades_the_class_as_batch_does(&submissions, &folder.path().join("slurm"), &rows);
    }

    // Again: nothing changed, so nothing is graded again.
    let started = std::time::Instant::now();
    let again = batch(&submissions, &out);
    assert!(String::from_utf8_lossy(&again.stdout).contains("(earlier run)"));
    assert!(started.elapsed().as_secs_f64() < 30.0, "a resumed batch regraded");
    let totals = |rows: &[Vec<String>]| rows.iter().map(|r| r[at("total")].clone()).collect::<Vec<_>>();
    assert_eq!(totals(&gradebook(&out)), totals(&rows));
    // A changed submission is graded again, whatever its record says.
    std::fs::write(submissions.join("partial/src/vgg.rs"), solution("vgg.rs")).unwrap();
    let again = batch(&submissions, &out);
    let partial = String::from_utf8_lossy(&again.stdout).lines().find(|l| l.starts_with("partial")).unwrap().to_owned();
    assert!(partial.contains("25/58") && !partial.contains("earlier run"), "{partial}");
}

/// A one-node Slurm cluster of `scripts/slurm-cluster`, stopped when dropped.
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let script = kit().join("scripts/slurm-cluster");
        let output = Command::new(&script).arg("start").arg(dir).arg("2").output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the one-node Slurm cluster did not start (it needs the packages slurm-wlm and munge, and root): {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let conf = stdout.lines().find_map(|l| l.strip_prefix("SLURM_CONF=")).unwrap().to_owned();
        Cluster { dir: dir.to_owned(), conf }
    }

    /// `grader batch SUBMISSIONS --slurm` on this cluster, with the options
    /// `batch` grades with (a task per student, one core each, as `--jobs
    /// 2` gives each student one of the two) and `extra`.
    fn grade(&self, submissions: &Path, out: &Path, extra: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_grader"))
            .arg("batch")
            .arg(submissions)
            .arg("--out")
            .arg(out)
            // One core per task: each check's limit goes up as its time does.
            .args(["--slurm", "--task-cores", "1", "--skip-training", "--timeout", "60", "--memory-limit", "2048"])
            // An instructor's own sbatch options reach sbatch: on this
            // machine the node's memory, not the limits' sum, is the bound.
            .args(["--sbatch=--partition=grading", "--sbatch=--mem=1G"])
            .args(extra)
            .env("SLURM_CONF", &self.conf)
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        stdout
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(kit().join("scripts/slurm-cluster")).arg("stop").arg(&self.dir).status();
    }
}

/// The students the cluster grades again (in name order).
const ON_THE_CLUSTER: [&str; 4] = ["complete", "fcn16s_crop_off_by_one", "fcn8s_does_not_compile", "partial"];

/// Grades [`ON_THE_CLUSTER`] of the class in `class` as a job array on a
/// one-node cluster into `out`: the gradebook equals their rows of
/// `class_rows`, the ones `grader batch` wrote. A task that fails and one
/// that never runs are named, and the same command run again grades only
/// those left.
fn slurm_grades_the_class_as_batch_does(class: &Path, out: &Path, class_rows: &[Vec<String>]) {
    // Part of the class: each student is graded by the same code as in
    // `grader batch`; what the cluster adds is the orchestration (a task per
    // student, a failed task named, a rerun, a task that never ran).
    let submissions = &out.with_file_name("slurm-class");
    for student in ON_THE_CLUSTER {
        for (path, contents) in files(&class.join(student)) {
            let to = submissions.join(student).join(path.strip_prefix(class.join(student)).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, contents).unwrap();
        }
    }
    let batch_rows: Vec<Vec<String>> = class_rows.iter().filter(|r| ON_THE_CLUSTER.contains(&r[0].as_str())).cloned().collect();
    assert_eq!(batch_rows.len(), ON_THE_CLUSTER.len());
    let batch_rows = &batch_rows[..];
    let cluster = Cluster::start(&out.with_file_name("cluster"));
    // A file where a student's folder goes makes that student's task fail.
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join("complete"), "in the way").unwrap();
    let started = std::time::Instant::now();
    // The runners are built in an array of their own (on a cluster, CPU
    // nodes with Rust), then graded by the grading array (GPU nodes).
    let said = cluster.grade(submissions, out, &["--build-sbatch=--partition=grading", "--build-sbatch=--mem=1G"]);
    eprintln!("{} submissions graded on the one-node cluster in {:.0} s", batch_rows.len(), started.elapsed().as_secs_f64());
    assert!(said.contains(&format!("Building {} runner(s)", batch_rows.len())), "{said}");
    assert!(said.contains(&format!("Submitting {} task(s)", batch_rows.len())), "{said}");
    for student in ON_THE_CLUSTER {
        let built = out.join(".slurm/runners").join(student);
        assert!(built.join("build.json").is_file() && built.join("runner").is_file(), "{student}'s runner was not built apart");
    }
    let outputs: String = std::fs::read_dir(out.join(".slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "out") && !p.file_name().unwrap().to_string_lossy().starts_with("build_"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(outputs.contains("grading partial with the runner built in"), "{outputs}");
    assert!(said.contains("Not graded (1): complete (its task failed: grader batch: cannot create"), "{said}");
    let rows = gradebook(out);
    assert_eq!(rows.len(), batch_rows.len(), "every student has a row: {rows:?}");
    for (row, batch_row) in rows.iter().zip(batch_rows) {
        if row[0] == "complete" {
            assert_eq!((&row[at("total")][..], &row[at("status")][..]), ("0", "not graded"), "{row:?}");
        } else {
            assert_eq!(row, batch_row, "{}: the job array's row differs from grader batch's", row[0]);
        }
    }

    // Again, with the obstacle gone: only the student left is graded.
    std::fs::remove_file(out.join("complete")).unwrap();
    let said = cluster.grade(submissions, out, &[]);
    assert!(said.contains("Submitting 1 task(s)") && !said.contains("Not graded"), "{said}");
    assert_eq!(gradebook(out), batch_rows, "the job array's gradebook differs from grader batch's");

    // A task that never runs (held in the queue) is named too.
    let late = submissions.join("late");
    put(submissions, "late", &all_solved());
    let said = cluster.grade(submissions, out, &["--no-wait", "--sbatch=--hold"]);
    assert!(said.contains("Submitting 1 task(s)") && said.contains("--gather"), "{said}");
    let gathered = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("batch")
        .arg(submissions)
        .arg("--out")
        .arg(out)
        .arg("--gather")
        .output()
        .unwrap();
    let gathered = String::from_utf8_lossy(&gathered.stdout);
    assert!(gathered.contains("Not graded (1): late (its task never ran"), "{gathered}");
    assert_eq!(gradebook(out).len(), batch_rows.len() + 1);
    std::fs::remove_dir_all(late).unwrap();
    let job = std::fs::read_to_string(out.join(".slurm/job")).unwrap();
    let _ = Command::new("scancel").arg(job.trim()).env("SLURM_CONF", &cluster.conf).status();
}
