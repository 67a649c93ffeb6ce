//! `wren check` against every file in conf/ and against broken configs.

use std::process::Command;

fn wren_check(path: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(["check", "--config"])
        .arg(path)
        .output()
        .expect("run wren")
}

#[test]
fn every_file_in_conf_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let out = wren_check(&p);
            assert!(
                out.status.success(),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            n += 1;
        }
    }
    assert!(n >= 1, "no config in conf/");
}

#[test]
fn broken_config_names_file_key_and_reason() {
    let dir = std::env::temp_dir().join(format!("wren-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "[router]\nasn = 64512\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\nhold_time = 2\n",
    )
    .unwrap();
    let out = wren_check(&p);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("peer[0].hold_time") && err.contains("RFC 4271"),
        "{err}"
    );
    std::fs::write(&p, "[router]\nasn = 64512\nbogus = 1\n").unwrap();
    let out = wren_check(&p);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:3:") && err.contains("bogus"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
