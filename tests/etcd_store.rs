//! The etcd store against a real etcd (one per test, on 127.0.0.1 with free ports and a
//! temporary data dir, killed by PID on drop). Skipped, loudly, without the `etcd` binary.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etcd_client::{Certificate, Client, CompactionOptions, ConnectOptions, Identity, TlsOptions};
use tokio::sync::mpsc::Receiver;
use wren::store::etcd::{spawn_with, Settings};
use wren::store::StoreEvent;

const WAIT: Duration = Duration::from_secs(15);

/// One etcd server; stopped (SIGKILL by PID) and its data dir removed on drop.
struct Etcd {
    child: Option<Child>,
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    /// Serve clients over TLS with client certificates (files in `dir`).
    tls: bool,
}

// ===== impl Etcd =====

impl Etcd {
    /// Start one, or `None` (after saying so) when `etcd` is not installed.
    fn start(test: &str) -> Option<Etcd> {
        Etcd::start_with(test, false)
    }

    fn start_with(test: &str, tls: bool) -> Option<Etcd> {
        if Command::new("etcd").arg("--version").output().is_err() {
            eprintln!(
                "SKIPPED {test}: the `etcd` binary is not installed (apt install etcd-server)"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!("wren-etcd-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut e = Etcd {
            child: None,
            dir,
            client_port: free_port(),
            peer_port: free_port(),
            tls,
        };
        std::fs::create_dir_all(&e.dir).expect("temp dir");
        if tls {
            make_certs(&e.dir)?;
        }
        e.run();
        Some(e)
    }

    fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
    }

    fn file(&self, name: &str) -> Option<PathBuf> {
        self.tls.then(|| self.dir.join(name))
    }

    fn run(&mut self) {
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let mut cmd = Command::new("etcd");
        if self.tls {
            cmd.arg(format!(
                "--cert-file={}",
                self.dir.join("server.pem").display()
            ))
            .arg(format!(
                "--key-file={}",
                self.dir.join("server.key").display()
            ))
            .arg(format!(
                "--trusted-ca-file={}",
                self.dir.join("ca.pem").display()
            ))
            .arg("--client-cert-auth");
        }
        let child = cmd
            .arg("--name=t")
            .arg(format!("--data-dir={}", self.dir.join("data").display()))
            .arg(format!("--listen-client-urls={}", self.url()))
            .arg(format!("--advertise-client-urls={}", self.url()))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=t={peer}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcd");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn client(&self) -> Client {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(mut c) = Client::connect([self.url()], self.options()).await {
                if c.status().await.is_ok() {
                    return c;
                }
            }
            assert!(Instant::now() < deadline, "etcd did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn options(&self) -> Option<ConnectOptions> {
        let read = |n: &str| std::fs::read(self.dir.join(n)).expect("cert file");
        self.tls.then(|| {
            ConnectOptions::new().with_tls(
                TlsOptions::new()
                    .ca_certificate(Certificate::from_pem(read("ca.pem")))
                    .identity(Identity::from_pem(read("client.pem"), read("client.key"))),
            )
        })
    }

    fn settings(&self) -> Settings {
        Settings {
            endpoints: vec![self.url()],
            ca_file: self.file("ca.pem"),
            cert_file: self.file("client.pem"),
            key_file: self.file("client.key"),
            prefixes: vec![
                "/calico/resources/".into(),
                "/calico/ipam/v2/host/n1/".into(),
            ],
            pause_after_list: Duration::ZERO,
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ===== helper functions =====

/// A CA, a server certificate for 127.0.0.1 and a client certificate (EC P-256), made
/// with `openssl`; `None` (after saying so) without it.
fn make_certs(dir: &std::path::Path) -> Option<()> {
    let ossl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output();
        match out {
            Ok(o) if o.status.success() => Some(()),
            Ok(o) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr)),
            Err(_) => None,
        }
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let Some(()) = ossl(
        &[
            &["req", "-x509"][..],
            &key,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "1",
                "-subj",
                "/CN=wren-test-ca",
            ],
        ]
        .concat(),
    ) else {
        eprintln!("SKIPPED: `openssl` is not installed (needed for the TLS test)");
        return None;
    };
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).expect("ext file");
        ossl(
            &[
                &["req"][..],
                &key,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={name}"),
                ],
            ]
            .concat(),
        )?;
        ossl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            &format!("{name}.pem"),
            "-extfile",
            &format!("{name}.ext"),
        ])?;
    }
    Some(())
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The next event that is not a Status (those are printed).
async fn next_data(rx: &mut Receiver<StoreEvent>) -> StoreEvent {
    loop {
        let ev = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("no event in time")
            .expect("store ended");
        match ev {
            StoreEvent::Status(s) => eprintln!("status: {s}"),
            other => return other,
        }
    }
}

fn sorted(mut kvs: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    kvs.sort();
    kvs.into_iter()
        .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
        .collect()
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

// ===== tests =====

#[tokio::test]
async fn list_then_watch_puts_and_deletes() {
    let Some(etcd) = Etcd::start("watch") else {
        return;
    };
    let mut c = etcd.client().await;
    c.put("/calico/resources/a", "1", None).await.unwrap();
    c.put("/calico/ipam/v2/host/n1/ipv4/block/10.0.0.0-26", "{}", None)
        .await
        .unwrap();
    // Not ours: another node's affinity, an IPAM block.
    c.put("/calico/ipam/v2/host/n2/ipv4/block/10.0.1.0-26", "{}", None)
        .await
        .unwrap();
    c.put("/calico/ipam/v2/assignment/x", "{}", None)
        .await
        .unwrap();
    let mut rx = spawn_with(etcd.settings()).unwrap();
    let StoreEvent::Reset { revision, kvs } = next_data(&mut rx).await else {
        panic!("first data event is not a Reset");
    };
    assert_eq!(
        sorted(kvs),
        [
            kv("/calico/ipam/v2/host/n1/ipv4/block/10.0.0.0-26", "{}"),
            kv("/calico/resources/a", "1"),
        ]
    );
    let put = c.put("/calico/resources/b", "2", None).await.unwrap();
    let put_rev = put.header().unwrap().revision();
    assert!(put_rev > revision);
    let StoreEvent::Changes { revision, changes } = next_data(&mut rx).await else {
        panic!("expected Changes");
    };
    assert_eq!(revision, put_rev);
    assert_eq!(
        changes,
        [("/calico/resources/b".to_string(), Some(b"2".to_vec()))]
    );
    c.put("/calico/ipam/v2/host/n2/ipv4/block/x", "{}", None)
        .await
        .unwrap();
    c.delete("/calico/resources/a", None).await.unwrap();
    let StoreEvent::Changes { changes, .. } = next_data(&mut rx).await else {
        panic!("expected Changes");
    };
    assert_eq!(changes, [("/calico/resources/a".to_string(), None)]);
}

#[tokio::test]
async fn compaction_forces_a_new_complete_reset() {
    let Some(etcd) = Etcd::start("compact") else {
        return;
    };
    let mut c = etcd.client().await;
    c.put("/calico/resources/a", "1", None).await.unwrap();
    let mut s = etcd.settings();
    // Between the list and the watch, compact past the listed revision: etcd must refuse
    // the watch from revision+1 (canceled, with the compact revision) and the store must
    // list again.
    s.pause_after_list = Duration::from_millis(1500);
    let mut rx = spawn_with(s).unwrap();
    let StoreEvent::Reset { revision, .. } = next_data(&mut rx).await else {
        panic!("expected a Reset");
    };
    let mut last = 0;
    for i in 0..5 {
        let r = c
            .put("/calico/resources/k", format!("{i}"), None)
            .await
            .unwrap();
        last = r.header().unwrap().revision();
    }
    c.delete("/calico/resources/a", None).await.unwrap();
    c.compact(last + 1, Some(CompactionOptions::new().with_physical()))
        .await
        .unwrap();
    let mut statuses = Vec::new();
    let ev = loop {
        match tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            StoreEvent::Status(st) => statuses.push(st),
            other => break other,
        }
    };
    let StoreEvent::Reset { revision: r2, kvs } = ev else {
        panic!("after a compaction the next data event must be a Reset, got {ev:?}");
    };
    assert!(r2 > revision);
    assert_eq!(sorted(kvs), [kv("/calico/resources/k", "4")]);
    assert!(
        statuses.iter().any(|st| st.contains("compacted")),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn restart_reconnects_and_resyncs_without_partial_events() {
    let Some(mut etcd) = Etcd::start("restart") else {
        return;
    };
    let mut c = etcd.client().await;
    c.put("/calico/resources/a", "1", None).await.unwrap();
    c.put("/calico/resources/b", "1", None).await.unwrap();
    let mut rx = spawn_with(etcd.settings()).unwrap();
    assert!(matches!(next_data(&mut rx).await, StoreEvent::Reset { .. }));
    etcd.stop();
    // While it is down: only Status lines, and one of them says "lost".
    let mut lost = false;
    let until = Instant::now() + Duration::from_secs(2);
    while let Ok(Some(ev)) = tokio::time::timeout(until - Instant::now(), rx.recv()).await {
        match ev {
            StoreEvent::Status(s) => lost |= s.contains("lost"),
            other => panic!("data event while etcd is down: {other:?}"),
        }
        if Instant::now() >= until {
            break;
        }
    }
    assert!(lost, "no 'lost' status");
    // Back, with a change made while we were away (b deleted, c new).
    etcd.run();
    let mut c2 = etcd.client().await;
    c2.delete("/calico/resources/b", None).await.unwrap();
    c2.put("/calico/resources/c", "3", None).await.unwrap();
    drop(c);
    let mut state = Vec::new();
    let mut resets = 0;
    let want = [
        kv("/calico/resources/a", "1"),
        kv("/calico/resources/c", "3"),
    ];
    while sorted(state.clone()) != want {
        apply(&mut state, next_data(&mut rx).await, &mut resets);
    }
    assert!(resets >= 1, "reconnecting must list again");
}

#[tokio::test]
async fn tls_with_client_certificates() {
    let Some(etcd) = Etcd::start_with("tls", true) else {
        return;
    };
    let mut c = etcd.client().await;
    c.put("/calico/resources/a", "1", None).await.unwrap();
    let mut rx = spawn_with(etcd.settings()).unwrap();
    let StoreEvent::Reset { kvs, .. } = next_data(&mut rx).await else {
        panic!("expected a Reset over TLS");
    };
    assert_eq!(sorted(kvs), [kv("/calico/resources/a", "1")]);
    c.put("/calico/resources/b", "2", None).await.unwrap();
    assert!(matches!(
        next_data(&mut rx).await,
        StoreEvent::Changes { .. }
    ));
    // Without the client certificate etcd refuses us: only Status lines, saying why.
    let mut s = etcd.settings();
    s.cert_file = None;
    s.key_file = None;
    let mut rx = spawn_with(s).unwrap();
    let ev = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    let StoreEvent::Status(st) = ev else {
        panic!("no client certificate, yet {ev:?}");
    };
    assert!(st.starts_with("lost"), "{st}");
}

/// Fold one event into `state` the way a consumer does; counts Resets.
fn apply(state: &mut Vec<(String, Vec<u8>)>, ev: StoreEvent, resets: &mut usize) {
    match ev {
        StoreEvent::Reset { kvs, .. } => {
            *resets += 1;
            *state = kvs;
        }
        StoreEvent::Changes { changes, .. } => {
            for (k, v) in changes {
                state.retain(|(sk, _)| *sk != k);
                if let Some(v) = v {
                    state.push((k, v));
                }
            }
        }
        StoreEvent::Status(s) => eprintln!("status: {s}"),
    }
}
