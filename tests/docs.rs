//! The documentation holds together: every relative link in README.md,
//! docs/*.md and examples/*/README.md names a file that exists and, for an
//! `#anchor` into a markdown file, a heading that is there (GitHub's anchor
//! rules); the README stays a short front page; each long doc starts with a
//! table of contents.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The docs whose links are checked, relative to the checkout.
fn docs() -> Vec<PathBuf> {
    let repo = support::repo();
    let mut out = vec![repo.join("README.md")];
    for (dir, file) in [("docs", None), ("examples", Some("README.md"))] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(repo.join(dir))
            .unwrap_or_else(|e| panic!("read {dir}/: {e}"))
            .map(|e| e.expect("a directory entry").path())
            .filter_map(|p| match file {
                None => (p.extension().is_some_and(|x| x == "md")).then_some(p),
                Some(f) => Some(p.join(f)).filter(|p| p.is_file()),
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

/// The text outside fenced code blocks, with inline code spans blanked, so
/// a `](` in an example is not read as a link. Lines keep their numbers.
fn prose(text: &str) -> Vec<String> {
    let mut fenced = false;
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return String::new();
            }
            if fenced {
                return String::new();
            }
            let mut out = String::new();
            for (i, part) in line.split('`').enumerate() {
                if i % 2 == 0 {
                    out.push_str(part);
                } else {
                    out.push_str(&" ".repeat(part.len() + 2));
                }
            }
            out
        })
        .collect()
}

/// GitHub's anchor for a heading: the text as rendered (code marks and link
/// targets gone), lower-cased, punctuation dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // [text](target) renders as text.
    while let Some(open) = rest.find("](") {
        let Some(close) = rest[open..].find(')') else { break };
        text.push_str(&rest[..open]);
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown text's headings (a repeated heading gets `-1`,
/// `-2`, … as on GitHub).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if fenced || !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..]);
        let mut anchor = base.clone();
        let mut n = 0;
        while !out.insert(anchor.clone()) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
    }
    out
}

/// Each link target in `text` (the part in `](…)`), with its line number.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (no, line) in prose(text).iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            out.push((no + 1, rest[..end].trim().to_string()));
            rest = &rest[end..];
        }
    }
    out
}

/// What is wrong with the relative links of `doc` (one line each).
fn broken_links(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap_or_else(|e| panic!("read {}: {e}", doc.display()));
    let dir = doc.parent().expect("a doc is in a directory");
    let mut problems = Vec::new();
    for (line, target) in links(&text) {
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let file = if path.is_empty() {
            doc.to_path_buf()
        } else {
            dir.join(path)
        };
        let at = format!("{}:{line}: `{target}`", doc.display());
        if !file.exists() {
            problems.push(format!("{at}: {} does not exist", file.display()));
            continue;
        }
        let Some(anchor) = anchor else { continue };
        if file.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let headings = anchors(&std::fs::read_to_string(&file).unwrap_or_default());
        if !headings.contains(anchor) {
            problems.push(format!(
                "{at}: {} has no heading with anchor #{anchor} (its anchors: {})",
                file.display(),
                headings.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    problems
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let docs = docs();
    assert!(
        docs.iter().any(|d| d.ends_with("docs/REFERENCE.md")),
        "docs/ was not found: {docs:?}"
    );
    let problems: Vec<String> = docs.iter().flat_map(|d| broken_links(d)).collect();
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

/// The checker itself finds what it must: a missing file, a missing
/// heading, and not a link in a code block.
#[test]
fn the_link_check_reports_a_missing_file_and_a_missing_heading() {
    let dir = support::TempDir::new("credhook-docs");
    let doc = dir.join("doc.md");
    std::fs::write(dir.join("other.md"), "# Other\n\n## The `credhook http` tool, (1)\n").unwrap();
    std::fs::write(
        &doc,
        "# Title\n\nSee [ok](other.md#the-credhook-http-tool-1), [self](#title),\n\
         [gone](missing.md), [no heading](other.md#nope), [web](https://example.com/x).\n\
         ```\n[in code](not-checked.md)\n```\nand `[inline](not-checked.md)`.\n",
    )
    .unwrap();
    let problems = broken_links(&doc);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("missing.md") && problems[0].contains("does not exist"));
    assert!(problems[1].contains("#nope") && problems[1].contains("the-credhook-http-tool-1"));
}

#[test]
fn github_anchors() {
    assert_eq!(
        slug(" Where the contract is silent, credhook does this"),
        "where-the-contract-is-silent-credhook-does-this"
    );
    assert_eq!(slug(" `credhook json get|out|build`"), "credhook-json-getoutbuild");
    assert_eq!(slug(" 3. Try it with `dry-run`"), "3-try-it-with-dry-run");
    assert_eq!(slug(" credhook's settings"), "credhooks-settings");
    assert_eq!(slug(" See [the guide](GUIDE.md)"), "see-the-guide");
    let twice = anchors("# A\n## Same\n## Same\n```\n# not a heading\n```\n#also-not\n");
    assert_eq!(twice.into_iter().collect::<Vec<_>>(), ["a", "same", "same-1"]);
}

#[test]
fn the_readme_is_a_front_page_and_long_docs_have_contents() {
    let repo = support::repo();
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let n = readme.lines().count();
    assert!(
        n <= 400,
        "README.md is {n} lines; keep it to at most 400 and move the rest into docs/"
    );
    for cmd in ["scripts/demo.sh", "cargo test --workspace"] {
        assert!(readme.contains(cmd), "README.md no longer shows `{cmd}`");
    }
    for doc in docs() {
        let text = std::fs::read_to_string(&doc).unwrap();
        if text.lines().count() <= 150 {
            continue;
        }
        let sections: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
        assert_eq!(
            sections.first().copied(),
            Some("## Contents"),
            "{} is long: its first section should be `## Contents`",
            doc.display()
        );
    }
}
