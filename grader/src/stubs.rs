//! The exercises crate's modules, made from the reference's, so that the
//! two never drift apart (`grader sync-exercises` writes them; a runner's
//! build tree starts from them).
//!
//! In `solutions/src/*.rs` (all but `lib.rs`, whose crate docs differ), the
//! body a student writes sits between two marker lines, and the stub that
//! replaces it is written just above them as `// STUB: ` comments:
//!
//! ```text
//!     // STUB: todo!("exercise 1: bilinear_filter(size = {size})")
//!     // BEGIN SOLUTION
//!     ...the reference's code...
//!     // END SOLUTION
//! ```
//!
//! The student's file is the reference's with each marked block removed and
//! each `// STUB: ` prefix dropped (the indentation kept). Everything else,
//! docs, signatures and files without markers (the FCN-32s worked example),
//! comes through whole.
//!
//! The same markers work inside a doc test, after the doc comment's `//! ` or
//! `/// `, so that a doc test can hold the student's part of an exercise:
//!
//! ```text
//! //! // STUB: todo!("show it here")
//! //! // BEGIN SOLUTION
//! //! assert!(...);
//! //! // END SOLUTION
//! ```

use std::path::{Path, PathBuf};
use anyhow::Context;

const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
const STUB: &str = "// STUB: ";
/// Doc-comment openings that markers may follow.
const DOC_PREFIXES: [&str; 2] = ["//! ", "/// "];

/// The student's version of the reference file `source` (named `file` in
/// errors).
pub fn student_version(source: &str, file: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(source.len());
    let mut open_at = None;
    for (n, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        let doc = DOC_PREFIXES.into_iter().find(|prefix| trimmed.starts_with(prefix)).unwrap_or("");
        // What comes before the marker: the indentation, then any doc-comment opening.
        let indent = &line[..line.len() - trimmed.len() + doc.len()];
        let trimmed = &trimmed[doc.len()..];
        match (trimmed, open_at) {
            (BEGIN, Some(open)) => return Err(anyhow::anyhow!("{file}:{}: {BEGIN} inside the block opened at line {open}", n + 1)),
            (BEGIN, None) => open_at = Some(n + 1),
            (END, None) => return Err(anyhow::anyhow!("{file}:{}: {END} with no {BEGIN} before it", n + 1)),
            (END, Some(_)) => open_at = None,
            (_, Some(_)) => {}
            (_, None) => match trimmed.strip_prefix(STUB) {
                Some(stub) => {
                    out.push_str(indent);
                    out.push_str(stub);
                    out.push('\n');
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            },
        }
    }
    if let Some(open) = open_at {
        return Err(anyhow::anyhow!("{file}:{open}: {BEGIN} is never closed by {END}"));
    }
    if !source.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// Each exercise module as it should be: (path in exercises/src, contents).
pub fn generated(kit: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let solutions = kit.join("solutions/src");
    let entries = std::fs::read_dir(&solutions)
        .with_context(|| format!("cannot read {}; run this in the kit's folder or pass --kit", solutions.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot read {}", solutions.display()))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if !name.ends_with(".rs") || name == "lib.rs" {
            continue;
        }
        let source = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        files.push((kit.join("exercises/src").join(&name), student_version(&source, &path.display().to_string())?));
    }
    files.sort();
    Ok(files)
}

/// The files of exercises/src that differ from what solutions/src makes.
pub fn drift(kit: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut differing = Vec::new();
    for (path, contents) in generated(kit)? {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
            differing.push(path);
        }
    }
    Ok(differing)
}

#[cfg(test)]
mod tests {
    use super::student_version;

    #[test]
    fn markers_in_code_and_in_doc_tests_are_replaced_by_their_stubs() {
        let source = "//! ```\n//! let x = 1;\n//! // STUB: todo!(\"show it\")\n//! // BEGIN SOLUTION\n//! assert_eq!(x, 1);\n\
                      //! // END SOLUTION\n//! ```\nfn f() -> u8 {\n    // STUB: todo!()\n    // BEGIN SOLUTION\n    1\n    // END SOLUTION\n}\n";
        let expected = "//! ```\n//! let x = 1;\n//! todo!(\"show it\")\n//! ```\nfn f() -> u8 {\n    todo!()\n}\n";
        assert_eq!(student_version(source, "f.rs").unwrap(), expected);
    }

    #[test]
    fn an_unclosed_marker_in_a_doc_comment_is_an_error() {
        let error = student_version("/// // BEGIN SOLUTION\n/// x\n", "f.rs").unwrap_err();
        assert_eq!(
            error.to_string(),
            "f.rs:1: // BEGIN SOLUTION is never closed by // END SOLUTION"
        );
    }
}
