//! The `scrapectl` binary offers the documented commands.
//! (Building this test also builds the binary the end-to-end tests run.)

use std::process::Command;

#[test]
fn help_lists_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_scrapectl")).arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "start",
        "watch",
        "stop",
        "restart",
        "delete",
        "purge",
        "get",
        "list",
        "results",
        "documents",
        "export",
        "events",
        "health",
        "regions",
        "prefectures",
        "completions",
    ] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(command)), "{command} missing from --help");
    }
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_scrapectl"))
        .args(["--server", "http://127.0.0.1:9", "list"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach the server at http://127.0.0.1:9"));
}
