//! The guide against the binary's own help: every flag of every command's `--help` is
//! documented on the guide's page for that command, and every flag the command-line chapter
//! names exists in `drlim fit`, so that the reference cannot drift from the program.

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

/// Every flag a Markdown page names anywhere (`--flag` after a space, a backtick or a start of
/// line), in code spans, blocks or tables.
fn named_flags(page: &str) -> BTreeSet<String> {
    page.split([' ', '`', '\n', '['])
        .filter_map(leading_flag)
        .collect()
}

/// Each command and the guide page that documents its flags.
const PAGES: [(&str, &str); 10] = [
    ("fit", "cli.md"),
    ("embed", "cli.md"),
    ("eval", "cli.md"),
    ("plot", "cli.md"),
    ("export", "scale.md"),
    ("view", "maps.md"),
    ("demo", "experiments.md"),
    ("experiment", "experiments.md"),
    ("render", "experiments.md"),
    ("bench", "scale.md"),
];

/// The guide's page `name`.
fn guide(name: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide");
    std::fs::read_to_string(root.join(name)).unwrap()
}

#[test]
fn every_commands_flags_are_on_its_guide_page() {
    let dir = tempfile::tempdir().unwrap();
    let top = ok(dir.path(), &["--help"]);
    let global = help_flags(&top);
    let mut missing = Vec::new();
    for (command, page) in PAGES {
        assert!(
            top.contains(&format!("  {command} ")),
            "no `{command}` in drlim --help"
        );
        let on_page = named_flags(&guide(page));
        let help = help_flags(&ok(dir.path(), &[command, "--help"]));
        assert!(help.len() > 2, "{command}: {help:?}");
        missing.extend(
            help.iter()
                .filter(|f| !global.contains(*f) && !on_page.contains(*f))
                .map(|f| format!("{command} {f} (docs/guide/{page})")),
        );
    }
    assert!(
        missing.is_empty(),
        "flags missing from the guide: {missing:?}"
    );
}

#[test]
fn the_guide_documents_every_fit_flag_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok(dir.path(), &["fit", "--help"]);
    let page = guide("cli.md");
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
