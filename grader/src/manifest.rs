//! The kit's manifests, cut down for a workspace of some of its crates: the
//! runner's build tree and the students' hand-out.

use anyhow::Context;

/// The kit's workspace manifest with `members` as its only members and
/// without the path dependencies on its other crates; the versions, the
/// profiles and the rest stay as they are, so that both workspaces build
/// as the kit does.
pub fn workspace_of(manifest: &str, members: &[&str]) -> anyhow::Result<String> {
    let start = manifest.find("members = [").context("the kit's Cargo.toml has no `members = [` list")?;
    let end = start + manifest[start..].find(']').context("the kit's Cargo.toml's members list does not close")?;
    let listed: String = members.iter().map(|c| format!("    \"{c}\",\n")).collect();
    let manifest = format!("{}members = [\n{listed}{}", &manifest[..start], &manifest[end..]);
    Ok(manifest
        .lines()
        .filter(|line| {
            let name = line.split('=').next().unwrap_or_default().trim();
            !line.contains("{ path = ") || members.contains(&name)
        })
        .map(|line| format!("{line}\n"))
        .collect())
}

/// `manifest` without the TOML section `header` (up to the next header).
pub fn without_section(manifest: &str, header: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == header;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIT: &str = include_str!("../../Cargo.toml");

    #[test]
    fn a_workspace_of_some_crates_keeps_the_rest_of_the_kit_s_manifest() {
        let cut = workspace_of(KIT, &["exercises", "fcn-common"]).unwrap();
        let parsed: toml::Table = toml::from_str(&cut).unwrap();
        let members = parsed["workspace"]["members"].as_array().unwrap();
        assert_eq!(members.iter().map(|m| m.as_str().unwrap()).collect::<Vec<_>>(), ["exercises", "fcn-common"]);
        let dependencies = parsed["workspace"]["dependencies"].as_table().unwrap();
        assert!(dependencies.contains_key("exercises") && dependencies.contains_key("tch"));
        for gone in ["solutions", "checks", "grader", "fcn-metrics", "runner"] {
            assert!(!dependencies.contains_key(gone), "{gone} is still a dependency:\n{cut}");
        }
        let kit: toml::Table = toml::from_str(KIT).unwrap();
        assert_eq!(parsed["profile"], kit["profile"], "the profiles are the kit's");
        assert!(workspace_of("[workspace]\n", &["exercises"]).unwrap_err().to_string().contains("members"));
    }

    #[test]
    fn a_section_is_removed_up_to_the_next() {
        let manifest = "[package]\nname = \"a\"\n[dev-dependencies]\nb = \"1\"\n[features]\nc = []\n";
        assert_eq!(without_section(manifest, "[dev-dependencies]"), "[package]\nname = \"a\"\n[features]\nc = []\n");
    }
}
