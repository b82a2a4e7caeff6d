//! End-to-end tests of the omnitrail binary: exit codes, output, atomicity.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn omnitrail(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .output()
        .unwrap()
}

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
        .display()
        .to_string()
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Starts importing a chat big enough that the import is still running 1.5 s later.
fn start_big_import(dir: &Path, ws: &Path) -> std::process::Child {
    let big = dir.join("WhatsApp Chat with Big.txt");
    let mut text = String::new();
    for i in 0..400_000 {
        let (day, hour, minute) = (1 + i % 28, i % 24, i % 60);
        text.push_str(&format!(
            "{day:02}/03/2024, {hour:02}:{minute:02} - Ana: message {i} about order BS-{i}\n"
        ));
    }
    std::fs::write(&big, text).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .arg("--workspace")
        .arg(ws)
        .args(["--quiet", "import", "whatsapp"])
        .arg(&big)
        .spawn()
        .unwrap();
    // Interrupt once the import is under way (its staged files exist), not after a fixed
    // delay that a fast build outruns.
    let staged = ws.join(".tmp");
    let started = std::time::Instant::now();
    while std::fs::read_dir(&staged).map_or(true, |mut d| d.next().is_none()) {
        assert!(started.elapsed().as_secs() < 60, "the import never started staging");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

#[test]
fn unknown_commands_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(dir.path(), &["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-command"));
}

/// A named pipe cannot be read twice (content hash, then import): every importer refuses it
/// with its name instead of waiting for a writer that never comes.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_refused_by_every_importer_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("export.txt");
    assert!(Command::new("mkfifo").arg(&pipe).status().unwrap().success());
    for importer in ["whatsapp", "email", "calls", "contacts"] {
        let ws = dir.path().join(format!("ws-{importer}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_omnitrail"))
            .arg("--workspace")
            .arg(&ws)
            .args(["import", importer])
            .arg(&pipe)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("import {importer} of a named pipe still waiting after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(1), "{importer}: {err}");
        assert!(
            err.contains("export.txt") && err.contains("not a regular file"),
            "{importer}: {err}"
        );
        assert!(!ws.join("manifest.json").exists(), "{importer}");
    }
}

#[test]
fn a_file_that_is_not_a_chat_fails_with_its_name_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(
        dir.path(),
        &["import", "whatsapp", &fixture("whatsapp/not_whatsapp.txt")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not_whatsapp.txt") && err.contains("not a WhatsApp export"),
        "{err}"
    );
    assert!(!dir.path().join("manifest.json").exists());
}

#[test]
fn audit_runs_the_whole_pipeline_on_the_demo_and_status_accounts_for_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(
        dir.path(),
        &[
            "--json",
            "audit",
            &fixture("demo"),
            "--tz",
            "Europe/London",
            "--region",
            "GB",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Imported, matched and reported in one go: the figures fixtures/demo/STORY.md derives by hand.
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["customers"], 10, "{audit}");
    assert_eq!(audit["multichannel_customers"], 3);
    assert_eq!(audit["channel_switches"], 4);
    assert_eq!(audit["customer_overcount_ratio"], 1.4);
    assert_eq!(audit["match"]["customers"], 10);
    assert_eq!(
        audit["import"]["sources"].as_array().unwrap().len(),
        7,
        "6 exports and STORY.md, skipped"
    );
    for file in ["customers.parquet", "identities.parquet", "links.parquet"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
    let out = omnitrail(dir.path(), &["--json", "status"]);
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = manifest["sources"].as_array().unwrap();
    // The demo's channels, one source each.
    let channels: Vec<&str> = sources.iter().map(|s| s["channel"].as_str().unwrap()).collect();
    for expected in ["whatsapp", "email", "call", "contact"] {
        assert!(channels.contains(&expected), "{expected} missing from {channels:?}");
    }
    for s in sources {
        let c = &s["counts"];
        let sum = c["imported"].as_u64().unwrap() + c["rejected"].as_u64().unwrap() + c["duplicates"].as_u64().unwrap();
        assert_eq!(c["read"].as_u64().unwrap(), sum);
        let recorded = match s["channel"].as_str() {
            Some("whatsapp") => s["notes"].to_string().contains("Bloom & Stem"),
            Some("email") => s["options"]["business_side"].as_str().is_some(),
            _ => true,
        };
        assert!(recorded, "business side inferred and recorded: {s}");
    }
    // One Parquet batch per import (the three chats share one), each stored file referenced.
    let whatsapp_batches: std::collections::BTreeSet<&str> = sources
        .iter()
        .filter(|s| s["channel"] == "whatsapp")
        .filter_map(|s| s["batch"].as_str())
        .collect();
    assert_eq!(whatsapp_batches.len(), 1, "{whatsapp_batches:?}");
    let referenced: std::collections::BTreeSet<&str> = sources.iter().filter_map(|s| s["batch"].as_str()).collect();
    let stored = std::fs::read_dir(dir.path().join("interactions")).unwrap().count();
    assert_eq!(stored, referenced.len());
    // Same files again: nothing added.
    let before = std::fs::read(dir.path().join("manifest.json")).unwrap();
    omnitrail(
        dir.path(),
        &[
            "--quiet",
            "audit",
            &fixture("demo"),
            "--tz",
            "Europe/London",
            "--region",
            "GB",
        ],
    );
    assert_eq!(std::fs::read(dir.path().join("manifest.json")).unwrap(), before);
}

#[test]
fn audit_of_a_folder_with_nothing_to_import_fails_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("exports");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.md"), "# meeting notes\n").unwrap();
    let out = omnitrail(&dir.path().join("ws"), &["audit", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no supported export found"), "{err}");
}

#[test]
fn killing_an_import_midway_leaves_the_workspace_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    omnitrail(
        &ws,
        &["--quiet", "import", "whatsapp", &fixture("whatsapp/android_ru.txt")],
    );
    let manifest = std::fs::read(ws.join("manifest.json")).unwrap();
    let batches = listing(&ws.join("interactions"));
    // A chat big enough that the import is still running when it is killed.
    let mut child = start_big_import(dir.path(), &ws);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read(ws.join("manifest.json")).unwrap(),
        manifest,
        "manifest unchanged"
    );
    assert_eq!(listing(&ws.join("interactions")), batches, "no new batch visible");
    // The next command recovers: staged leftovers are removed.
    assert_eq!(omnitrail(&ws, &["status"]).status.code(), Some(0));
    assert!(listing(&ws.join(".tmp")).is_empty());
}

/// A command run while an import is changing the workspace waits for it, says so, and
/// then sees what it imported: it neither reads a half-committed workspace nor removes the
/// import's files as leftovers.
#[test]
fn a_command_run_during_an_import_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let mut import = start_big_import(dir.path(), &ws);
    let status = omnitrail(&ws, &["--json", "status"]);
    let imported = import.wait().unwrap();
    assert_eq!(imported.code(), Some(0));
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let waited = String::from_utf8_lossy(&status.stderr);
    assert!(
        waited.contains("waiting for another omnitrail command to finish with"),
        "{waited}"
    );
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(report["sources"][0]["counts"]["imported"], 400_000, "{report}");
    // Every batch the manifest names is there.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("manifest.json")).unwrap()).unwrap();
    for source in manifest["sources"].as_array().unwrap() {
        let batch = source["batch"].as_str().unwrap();
        assert!(ws.join(batch).exists(), "{batch} is missing");
    }
}

/// Issue #2's bad inputs, named to `import whatsapp` on a workspace that already holds a
/// chat: each is one error line naming the file, exit 1, and the workspace's files stay
/// byte for byte as they were.
#[test]
fn bad_whatsapp_inputs_fail_with_one_line_and_leave_the_workspace_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let good = fixture("whatsapp/multiline_media_system.txt");
    assert_eq!(
        omnitrail(&ws, &["--quiet", "import", "whatsapp", &good]).status.code(),
        Some(0)
    );
    let manifest = std::fs::read(ws.join("manifest.json")).unwrap();
    let batches = listing(&ws.join("interactions"));
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "\n \r\n\n").unwrap();
    let bad = [
        (fixture("whatsapp/empty.txt"), "empty file"),
        (blank.display().to_string(), "only blank lines"),
        (fixture("whatsapp/binary.txt"), "binary data"),
        (fixture("whatsapp/not_whatsapp.txt"), "not a WhatsApp export"),
        (fixture("whatsapp/not_a_chat.zip"), "_chat.txt"),
        (fixture("whatsapp/zip_bomb.zip"), "zip bomb"),
    ];
    for (path, expected) in bad {
        let out = omnitrail(&ws, &["--quiet", "import", "whatsapp", &path]);
        assert_eq!(out.status.code(), Some(1), "{path}");
        let err = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(errors[0].contains(&path) && errors[0].contains(expected), "{err}");
        assert_eq!(std::fs::read(ws.join("manifest.json")).unwrap(), manifest, "{path}");
        assert_eq!(listing(&ws.join("interactions")), batches, "{path}");
    }
}

#[test]
fn a_50_mb_single_line_is_refused_without_reading_it_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("one-line.txt");
    std::fs::write(&big, vec![b'x'; 50 << 20]).unwrap();
    let out = omnitrail(&dir.path().join("ws"), &["import", "whatsapp", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("one-line.txt") && err.contains("longer than 1 MiB"),
        "{err}"
    );
    assert!(!dir.path().join("ws/manifest.json").exists());
}

#[test]
fn impossible_twelve_hour_times_are_read_as_24_hour_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let chat = dir.path().join("chat.txt");
    std::fs::write(
        &chat,
        "29.01.18, 23:59 PM - Ana: late\n30.01.18, 00:04 AM - Ben: still up\n30.01.18, 9:15 AM - Ana: morning\n",
    )
    .unwrap();
    let out = omnitrail(
        &dir.path().join("ws"),
        &["--json", "import", "whatsapp", chat.to_str().unwrap(), "--tz", "UTC"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let src = &report["sources"][0];
    assert_eq!(src["counts"]["imported"], 3);
    assert_eq!(src["first_ts"], "2018-01-29T23:59:00Z");
    assert!(src["notes"].to_string().contains("read as 24-hour"), "{src}");
}

#[test]
fn ctrl_c_midway_exits_130_and_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    omnitrail(
        &ws,
        &["--quiet", "import", "whatsapp", &fixture("whatsapp/android_ru.txt")],
    );
    let snapshot = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for sub in ["", "interactions", "rejects", ".tmp"] {
            let mut names: Vec<_> = std::fs::read_dir(d.join(sub))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for p in names.into_iter().filter(|p| p.is_file()) {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
        out
    };
    let before = snapshot(&ws);
    let child = start_big_import(dir.path(), &ws);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(snapshot(&ws), before, "workspace byte-identical after Ctrl-C");
}

#[test]
fn business_settings_come_from_the_workspace_file_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("omnitrail.toml"),
        "whatsapp_names = [\"Bloom & Stem\"]\nregion = \"GB\"\ntz = \"Europe/London\"\n",
    )
    .unwrap();
    let chat = fixture("demo/whatsapp/WhatsApp Chat with Sarah Jones.txt");
    let out = omnitrail(&ws, &["--json", "import", "whatsapp", &chat]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = report["sources"][0]["notes"].to_string();
    assert!(notes.contains("Bloom & Stem"), "{notes}");
    assert!(report["notes"].to_string().contains("Europe/London"));

    // A settings file that is not valid is an error naming it, and nothing is imported.
    let ws2 = dir.path().join("ws2");
    let settings = dir.path().join("business.toml");
    std::fs::write(&settings, "whatsapp_names = \"not a list\"\n").unwrap();
    let out = omnitrail(
        &ws2,
        &[
            "import",
            "whatsapp",
            &chat,
            "--business-file",
            settings.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("business.toml"));
    assert!(!ws2.join("manifest.json").exists());
}

#[test]
fn strict_on_an_import_subcommand_fails_when_a_record_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let bad = fixture("whatsapp/invalid_utf8.txt");
    let out = omnitrail(dir.path(), &["import", "whatsapp", &bad, "--strict", "--tz", "UTC"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let out = omnitrail(&dir.path().join("other"), &["import", "whatsapp", &bad, "--tz", "UTC"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn status_of_a_workspace_of_many_sources_lists_each_once_in_aligned_tables() {
    use omnitrail::workspace::{Counts, SourceEntry, Workspace};
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path().join("ws");
    let n = 2_345;
    {
        let mut ws = Workspace::open(&ws_dir).unwrap();
        let mut txn = ws.begin();
        for i in 0..n {
            txn.add_source(SourceEntry {
                source_id: format!("wa-{i:016x}"),
                // Some paths wider than the others, and one in a later page widest of all.
                path: if i == 2_222 {
                    format!("chats/{}é.txt", "x".repeat(80))
                } else {
                    format!("chats/chat {i}.txt")
                },
                size: 1,
                content_hash: format!("{i:064x}"),
                format: "whatsapp".into(),
                channel: "whatsapp".into(),
                options: serde_json::value::RawValue::NULL.to_owned(),
                counts: Counts {
                    read: 2,
                    imported: 1,
                    rejected: 1,
                    duplicates: 0,
                },
                first_ts: Some("2024-01-01T00:00:00Z".into()),
                last_ts: Some("2024-01-02T00:00:00Z".into()),
                imported_at: "2026-11-25T00:00:00Z".into(),
                batch: None,
                rejects: None,
                notes: Default::default(),
            })
            .unwrap();
        }
        txn.commit().unwrap();
    }
    let out = omnitrail(&ws_dir, &["status"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for i in 0..n {
        let name = if i == 2_222 {
            format!("chats/{}é.txt ", "x".repeat(80))
        } else {
            format!("chats/chat {i}.txt ")
        };
        assert_eq!(text.matches(&format!("│ {name}")).count(), 1, "chat {i}");
    }
    assert_eq!(text.matches("total (2345 sources)").count(), 1);
    assert_eq!(
        text.matches("│ source ").count(),
        3,
        "three tables of at most 1 000 rows"
    );
    let table_lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("workspace:")).collect();
    let width = table_lines[0].chars().count();
    assert!(
        table_lines.iter().all(|l| l.chars().count() == width),
        "every line {width} wide"
    );
}

/// An import of more files than it keeps outcomes of in memory (4 096) reports every one:
/// in `--json`, in the table's totals and in the grouped notes.
#[test]
fn an_import_of_thousands_of_files_reports_every_one() {
    let dir = tempfile::tempdir().unwrap();
    let chats = dir.path().join("chats");
    std::fs::create_dir(&chats).unwrap();
    let n = 4_500;
    for i in 0..n {
        let day = 13 + i % 15;
        std::fs::write(
            chats.join(format!("WhatsApp Chat with Customer {i}.txt")),
            format!("{day}/02/2024, 10:00 - Customer {i}: order {i}?\n{day}/02/2024, 10:05 - Shop: shipped\n"),
        )
        .unwrap();
    }
    // One that is not a chat.
    std::fs::write(chats.join("zz-not-a-chat.txt"), "just some prose\n").unwrap();
    let ws = dir.path().join("ws");
    let chats = chats.to_str().unwrap();
    let out = omnitrail(&ws, &["--json", "import", "whatsapp", chats, "--business-name", "Shop"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = report["sources"].as_array().unwrap();
    assert_eq!(sources.len(), n + 1);
    let count = |outcome: &str| sources.iter().filter(|s| s["outcome"] == outcome).count();
    assert_eq!((count("imported"), count("skipped")), (n, 1));
    assert_eq!(sources[4_400]["counts"]["imported"], 2, "{}", sources[4_400]);
    assert_eq!(out.status.code(), Some(0));
    // The same files again, as a table: all already imported, the notes grouped by kind.
    let out = omnitrail(&ws, &["import", "whatsapp", chats, "--business-name", "Shop"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("{n} whatsapp files")), "{table}");
    assert!(table.contains(&format!("{} files in all", n + 1)), "{table}");
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.lines().count() < 30, "{notes}");
}

/// A link back up inside an export folder is reported and not walked: the walk ends, and
/// the chat under it is imported once.
#[test]
#[cfg(unix)]
fn a_link_loop_in_a_folder_is_reported_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(exports.join("a")).unwrap();
    std::fs::copy(fixture("whatsapp/android_ru.txt"), exports.join("a/chat.txt")).unwrap();
    std::os::unix::fs::symlink(&exports, exports.join("a/back")).unwrap();
    let out = omnitrail(
        &dir.path().join("ws"),
        &["--json", "import", exports.to_str().unwrap(), "--tz", "UTC"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = report["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2, "{report}");
    let back = sources
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("back"))
        .unwrap();
    assert_eq!(back["outcome"], "skipped");
    assert!(back["error"].as_str().unwrap().contains("a link back to"), "{back}");
    let chat = sources
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("chat.txt"))
        .unwrap();
    assert_eq!(chat["counts"]["imported"], 6);
}
