//! The source tree keeps its shape: no file over 500 lines, and no import cycle between the
//! top-level modules of `src/` or between the files of one folder. Dependencies are read from
//! `crate::…`, `super::…` and `self::…` paths outside `//` comments and test code; a file of
//! module `a::b::c` naming `a::d::e` is an edge `b -> d` in folder `a` (the deepest module both
//! share), so a submodule's imports count for its parent, and imports of a parent are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 500;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`; `lib.rs` and `main.rs` are the root.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut segs: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into()).collect();
    segs.retain(|s| !["mod", "lib", "main"].contains(&s.as_str()));
    segs
}

/// The code of a file without `//` comments and without its inline test module (clippy's
/// `items_after_test_module` keeps that last).
fn code(text: &str) -> String {
    let code: Vec<&str> = text
        .lines()
        .map(|l| l.split("//").next().unwrap())
        .collect();
    let code = code.join("\n");
    let inline_tests = code.match_indices("#[cfg(test)]").find(|(at, _)| {
        let item = code[at + 12..].trim_start();
        item.starts_with("mod ") && item.find('{') < Some(item.find(';').unwrap_or(item.len()))
    });
    code[..inline_tests.map_or(code.len(), |(at, _)| at)].to_owned()
}

/// Absolute paths named in `code` of module `me`; `use a::{b, c::d}` gives `a::b` and `a::c`.
fn paths(me: &[String], code: &str) -> Vec<Vec<String>> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let ident = |s: &str| {
        s.trim_start()
            .split(|c| !is_ident(c))
            .next()
            .unwrap()
            .to_owned()
    };
    let mut found = Vec::new();
    for root in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(root) {
            if code[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                continue; // inside a longer path or identifier
            }
            let mut path: Vec<String> = me.iter().filter(|_| root != "crate::").cloned().collect();
            let mut rest = &code[at..];
            loop {
                let seg = ident(rest);
                rest = &rest[seg.len()..];
                match seg.as_str() {
                    "super" => drop(path.pop()),
                    "crate" | "self" | "" => {}
                    _ => path.push(seg),
                }
                let Some(next) = rest.strip_prefix("::") else {
                    break;
                };
                rest = next;
            }
            let group = rest
                .strip_prefix('{')
                .map_or("", |g| &g[..g.find(';').unwrap_or(g.len())]);
            let mut depth = 0;
            let items = group.split(|c| {
                depth += i32::from(c == '{') - i32::from(c == '}');
                c == ',' && depth == 0
            });
            for item in items.map(ident).filter(|i| !i.is_empty() && i != "self") {
                found.push([path.clone(), vec![item]].concat());
            }
            found.push(path);
        }
    }
    found
}

/// Which modules each module imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// A cycle in `edges`, as the list of nodes along it.
fn find_cycle(edges: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        e: &Graph,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            return Some(stack[i..].iter().cloned().chain([n.to_owned()]).collect());
        }
        if !done.insert(n.to_owned()) {
            return None;
        }
        stack.push(n.to_owned());
        let found = e
            .get(n)
            .into_iter()
            .flatten()
            .find_map(|m| visit(m, e, stack, done));
        stack.pop();
        found
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn files_are_short_and_modules_have_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
    let mut long = Vec::new();
    // folder -> (child -> children it imports)
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
        let me = module_path(&src, file);
        if file.ends_with("main.rs") || file.ends_with("tests.rs") {
            continue; // the binary may use anything; test files are test code
        }
        for to in paths(&me, &code(&text)) {
            let k = me.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if k < me.len() && k < to.len() && modules.contains(&to[..=k]) {
                let folder = graphs.entry(me[..k].join("/")).or_default();
                folder
                    .entry(me[k].clone())
                    .or_default()
                    .insert(to[k].clone());
            }
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
    let cycles: Vec<String> = graphs
        .iter()
        .filter_map(|(folder, edges)| {
            Some(format!(
                "in src/{folder}: {}",
                find_cycle(edges)?.join(" -> ")
            ))
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
    assert!(graphs[""].len() > 5, "the top-level imports were not read");
}
