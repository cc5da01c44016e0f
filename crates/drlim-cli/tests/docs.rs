//! The guide's command-line chapter against the binary's own help: every flag `drlim fit
//! --help` lists is documented in `docs/guide/cli.md`, and every flag the chapter names exists,
//! so that the reference cannot drift from the program.

mod common;

use std::collections::BTreeSet;

use common::ok;

/// The flag at the start of `text` (`--flag…` up to the first character that cannot be in a
/// flag's name), if it starts with one.
fn leading_flag(text: &str) -> Option<String> {
    let name: String = text
        .strip_prefix("--")?
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '-')
        .collect();
    (!name.is_empty()).then(|| format!("--{name}"))
}

/// The long flags of a `--help` text's option lines (`  -q, --quiet …`, `      --data <DATA>`).
fn help_flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let t = line.trim_start();
            let t = t
                .strip_prefix("-")
                .filter(|r| r.len() > 3 && &r[1..3] == ", ")
                .map_or(t, |r| &r[3..]);
            leading_flag(t)
        })
        .collect()
}

/// The flags a Markdown page names in code spans (`` `--flag …` ``).
fn page_flags(page: &str) -> BTreeSet<String> {
    page.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(leading_flag)
        .collect()
}

#[test]
fn the_guide_documents_every_fit_flag_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok(dir.path(), &["fit", "--help"]);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let page = std::fs::read_to_string(root.join("docs/guide/cli.md")).unwrap();
    let in_help = help_flags(&help);
    let in_page = page_flags(&page);
    assert!(
        in_help.contains("--data") && in_help.contains("--pca"),
        "{in_help:?}"
    );
    let undocumented: Vec<_> = in_help
        .iter()
        .filter(|f| *f != "--help" && !in_page.contains(*f))
        .collect();
    let unknown: Vec<_> = in_page.iter().filter(|f| !in_help.contains(*f)).collect();
    assert!(
        undocumented.is_empty(),
        "flags of `drlim fit --help` missing from docs/guide/cli.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "flags in docs/guide/cli.md that `drlim fit` does not have: {unknown:?}"
    );
}
