//! The `driftscope` binary: `check` on good and broken configs, and `serve` on the bundled
//! defaults (started as a child process on 127.0.0.1 and stopped by PID).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn driftscope() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftscope"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

#[test]
fn check_accepts_the_bundled_config() {
    let output = driftscope()
        .args(["check", "--config", "monitors.yaml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("monitor \"employment\": 19 columns, 68785 reference rows"),
        "{stdout}"
    );
}

#[test]
fn check_reports_every_problem_with_its_key_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference.csv"),
        dir.path().join("ref.csv"),
    )
    .unwrap();
    let config = dir.path().join("monitors.yaml");
    std::fs::write(
        &config,
        "monitors:\n  - name: a\n    reference: ref.csv\n    features:\n      numerical: [x, AGEX]\n      \
         categorical: [{name: c, test: z}]\n    drift_share: 3\n    window: {rows: 10}\n  - name: b\n    reference: missing.parquet\n    \
         features: {numerical: [x]}\n    window: {rows: 10}\n",
    )
    .unwrap();
    let output = driftscope()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in [
        "monitors[0].features.numerical[1]: column \"AGEX\" not found in",
        "monitors[0].drift_share: must be in (0, 1], got 3",
        "monitors[0].features.categorical[0]: test z needs a binary column",
        "monitors[1].reference:",
        "missing.parquet",
        "4 problem(s) found",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

#[test]
fn check_names_the_file_and_key_of_a_shape_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("monitors.yaml");
    std::fs::write(&config, "monitors:\n  - name: a\n    reference: r.csv\n    features: {numerical: [x]}\n    windoww: {rows: 1}\n").unwrap();
    let output = driftscope()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "monitors.yaml: monitors[0].windoww: unknown field `windoww`, expected one of `name`"
        ),
        "{stderr}"
    );
}

#[test]
fn check_applies_environment_overrides() {
    let output = driftscope()
        .args(["check", "--config", "monitors.yaml"])
        .env("DRIFTSCOPE__SERVER__MAX_BODY_BYTES", "zero")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.max_body_bytes"), "{stderr}");
}

#[test]
fn serve_runs_the_bundled_defaults_and_stops_on_sigterm() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = driftscope()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(stream);
            break true;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let body = ready.then(|| http_get(port, "/readyz"));
    // Stop by PID before asserting, so a failure never leaks the process.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    let body = body.expect("server did not start listening");
    assert!(
        body.contains("\"name\":\"employment\"") && body.contains("\"reference_rows\":68785"),
        "{body}"
    );
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
    let mut log = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        log.push_str(&line.unwrap());
    }
    assert!(log.contains("Serving."), "{log}");
}

/// A minimal HTTP/1.1 GET, so this test needs no async runtime.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// `monitors.container.yaml` (Dockerfile, compose) must stay the bundled demo with only
/// authentication and the listen address changed, and must load with its token files present.
#[test]
fn container_config_is_the_demo_with_authentication_on() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let monitors = |file: &str| {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        text[text.find("\nmonitors:").unwrap()..].to_owned()
    };
    assert_eq!(
        monitors("monitors.container.yaml"),
        monitors("monitors.yaml"),
        "the container config's monitors drifted from the demo's"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("monitors.container.yaml"),
        dir.path().join("monitors.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        root.join("reference_data"),
        dir.path().join("reference_data"),
    )
    .unwrap();
    let check = || {
        driftscope()
            .args(["check", "--config"])
            .arg(dir.path().join("monitors.yaml"))
            .output()
            .unwrap()
    };
    let missing = check();
    assert_eq!(missing.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("server.auth.tokens[0].from_file: cannot read"),
        "{stderr}"
    );
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    for name in ["ingest_token", "read_token"] {
        std::fs::write(
            dir.path().join("secrets").join(name),
            "0123456789abcdef0123\n",
        )
        .unwrap();
    }
    let output = check();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn init_writes_a_config_that_check_accepts_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("monitors.yaml");
    let run = |extra: &[&str]| {
        driftscope()
            .args([
                "init",
                "--reference",
                "reference_data/employment_ma_2015.parquet",
            ])
            .args(["--target", "employed", "--prediction", "prediction"])
            .args(["--probability", "predicted_probability", "--output"])
            .arg(&output)
            .args(extra)
            .output()
            .unwrap()
    };
    let written = run(&[]);
    assert!(written.status.success(), "{written:?}");
    let text = std::fs::read_to_string(&output).unwrap();
    // The rule: text → categorical, many distinct numbers → numerical; ids and constants out.
    let numerical = text.find("numerical:").unwrap();
    let categorical = text.find("categorical:").unwrap();
    let at = |name: &str| text.find(&format!("- \"{name}\"")).unwrap();
    assert!(numerical < at("AGEP") && at("AGEP") < categorical, "{text}");
    assert!(
        at("SCHL") > categorical && at("RAC1P") > categorical,
        "{text}"
    );
    assert!(text.contains("id: \"id\""), "{text}");
    assert!(text.contains("not monitored: \"year\""), "{text}");
    assert!(
        text.contains("probability: \"predicted_probability\"")
            && !text.contains("- \"predicted_probability\""),
        "{text}"
    );
    let check = driftscope()
        .args(["check", "--config"])
        .arg(&output)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}{check:?}");
    assert!(
        stdout.contains("19 columns, 68785 reference rows"),
        "{stdout}"
    );

    // An existing file is kept unless --force; an unknown column is named with the known ones.
    let again = run(&[]);
    assert_eq!(again.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let unknown = driftscope()
        .args([
            "init",
            "--reference",
            "tests/fixtures/reference.csv",
            "--target",
            "nope",
        ])
        .args(["--output"])
        .arg(dir.path().join("other.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        !unknown.status.success()
            && stderr.contains("no column \"nope\"")
            && stderr.contains("x, y"),
        "{stderr}"
    );
}
