//! `sim serve` over real HTTP: kubectl against it, pagination, selectors, watch, 410, 403, 405.

use std::net::SocketAddr;
use std::time::Duration;

use clustertop::sim::SimConfig;
use clustertop::sim::serve::{ServeConfig, Server};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use tokio::task::block_in_place;

async fn start(nodes: usize, forbid: &[&str]) -> Server {
    let cfg = ServeConfig {
        sim: SimConfig { nodes, ..SimConfig::default() },
        forbid: forbid.iter().map(|s| s.to_string()).collect(),
        step: Duration::from_millis(200),
        ..ServeConfig::default()
    };
    Server::start(cfg).await.expect("server starts")
}

/// One HTTP/1.0 request; the whole response as (status, body).
async fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    block_in_place(|| {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        let req = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n");
        s.write_all(req.as_bytes()).expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (code, body.to_string())
    })
}

async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (code, body) = http(addr, "GET", path).await;
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json body")
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A watch stream: the event lines, read until `done` holds for one or the deadline passes.
struct Watch {
    reader: BufReader<TcpStream>,
}

impl Watch {
    async fn open(addr: SocketAddr, path: &str) -> Watch {
        block_in_place(|| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
            let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
            s.write_all(req.as_bytes()).expect("write");
            let mut w = Watch { reader: BufReader::new(s) };
            let deadline = Instant::now() + Duration::from_secs(20);
            let status = w.line(deadline).unwrap_or_default();
            assert!(status.contains(" 200 "), "{path}: {status}");
            while let Some(l) = w.line(deadline) {
                if l.trim().is_empty() {
                    break;
                }
            }
            w
        })
    }

    /// The next line; `None` at the end of the stream. Panics at the deadline.
    fn line(&mut self, deadline: Instant) -> Option<String> {
        let mut buf = String::new();
        loop {
            assert!(Instant::now() < deadline, "no complete line before the deadline");
            match self.reader.read_line(&mut buf) {
                Ok(0) => return None,
                Ok(_) if buf.ends_with('\n') => return Some(buf),
                Ok(_) => {}
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// The first event satisfying `done`; `None` when the stream ends first.
    async fn until(&mut self, secs: u64, done: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        block_in_place(|| {
            loop {
                let line = self.line(deadline)?;
                let ev: Value = serde_json::from_str(&line).expect("event json");
                if done(&ev) {
                    return Some(ev);
                }
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_the_simulated_cluster() {
    let Ok(kubectl) = std::process::Command::new("kubectl").arg("version").arg("--client").output() else {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "kubectl is required on CI");
        eprintln!("kubectl not found: skipped");
        return;
    };
    assert!(kubectl.status.success());
    let server = start(24, &[]).await;
    server.control().pause_churn(true);
    let dir = std::env::temp_dir().join(format!("clustertop-sim-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kc = dir.join("kubeconfig");
    std::fs::write(&kc, server.kubeconfig()).expect("kubeconfig");
    let run = |args: &[&str]| {
        let out = block_in_place(|| {
            std::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&kc)
                .arg("--cache-dir")
                .arg(dir.join("cache"))
                .arg("--request-timeout=60s")
                .args(args)
                .output()
                .expect("kubectl runs")
        });
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "kubectl {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    };
    // `kubectl get` asks for a Table: the columns the API server prints, not just NAME and AGE.
    let nodes = run(&["get", "nodes"]);
    let header: Vec<&str> = nodes.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], "{nodes}");
    assert!(nodes.contains("r1-n01") && nodes.contains("r6-n04"), "{nodes}");
    assert_eq!(nodes.lines().count(), 25, "{nodes}");
    let r1 = nodes.lines().find(|l| l.starts_with("r1-n01 ")).unwrap_or("");
    assert!(r1.contains(" Ready ") && r1.contains("<none>") && r1.contains("v1."), "{r1}");
    let wide = run(&["get", "nodes", "-o", "wide"]);
    assert!(wide.lines().next().unwrap_or("").contains("INTERNAL-IP   EXTERNAL-IP   OS-IMAGE"), "{wide}");
    let pods = run(&["get", "pods", "-A"]);
    let header: Vec<&str> = pods.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"], "{pods}");
    assert!(pods.contains("kube-system") && pods.contains("cilium-"), "{pods}");
    assert!(pods.lines().skip(1).all(|l| l.contains("1/1     Running") || !l.contains("Running")), "{pods}");
    assert_eq!(pods.lines().count(), server.control().counts().1 + 1);
    // `kubectl describe node` lists the node's unfinished pods (field selector `status.phase`).
    let on_r1 = run(&["get", "pods", "-A", "--field-selector", "spec.nodeName=r1-n01", "--no-headers"]);
    let describe = run(&["describe", "node", "r1-n01"]);
    assert!(describe.contains("Name:               r1-n01"), "{describe}");
    let want = format!("Non-terminated Pods:          ({} in total)", on_r1.lines().count());
    assert!(describe.contains(&want), "{want}\n{describe}");
    let bgp = run(&["get", "ciliumbgpnodeconfigs"]);
    assert!(bgp.contains("r5-n01"), "{bgp}");
    let short = run(&["get", "cbgpnode", "r5-n01", "-o", "json"]);
    let obj: Value = serde_json::from_str(&short).expect("json");
    assert_eq!(obj["kind"], "CiliumBGPNodeConfig");
    let raw = run(&["get", "--raw", "/apis"]);
    assert!(raw.contains("cilium.io/v2") && raw.contains("node.k8s.io/v1"), "{raw}");
    let sel = run(&["get", "pods", "-A", "-l", "k8s-app=cilium", "--field-selector", "spec.nodeName=r5-n01"]);
    assert_eq!(sel.lines().count(), 2, "{sel}");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The requests kubectl sends, without kubectl: `get` with its Accept header gets a
/// `meta.k8s.io/v1` Table (columns, cells, the object's metadata for NAMESPACE and labels); a
/// client that asks for JSON still gets the list; `describe node`'s field selector is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectls_requests_get_a_table_and_a_field_selected_list() {
    let server = start(6, &[]).await;
    server.control().pause_churn(true);
    let addr = server.addr;
    let kubectl_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,\
                          application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    let get = |path: &str, accept: &str| {
        block_in_place(|| {
            let mut s = TcpStream::connect(addr).expect("connect");
            let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: {accept}\r\n\r\n");
            s.write_all(req.as_bytes()).expect("write");
            let mut buf = String::new();
            s.read_to_string(&mut buf).expect("read");
            let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
            serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{path}: {e}: {buf}"))
        })
    };
    let t = get("/api/v1/nodes?limit=500", kubectl_accept);
    assert_eq!(
        (t["kind"].as_str(), t["apiVersion"].as_str()),
        (Some("Table"), Some("meta.k8s.io/v1")),
        "{t}"
    );
    let cols: Vec<(&str, u64)> = t["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| (c["name"].as_str().unwrap_or(""), c["priority"].as_u64().unwrap_or(9)))
        .collect();
    assert_eq!(&cols[..5], [("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0)]);
    assert!(cols[5..].iter().all(|(_, p)| *p == 1), "{cols:?}");
    let rows = t["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["cells"][0], "r1-n01");
    assert_eq!(rows[0]["cells"][1], "Ready");
    assert_eq!(rows[0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(rows[0]["object"]["metadata"]["name"], "r1-n01");
    // One object, and pods (their namespace in the row's metadata).
    let one = get("/api/v1/nodes/r2-n01", kubectl_accept);
    assert_eq!(one["rows"][0]["cells"][0], "r2-n01", "{one}");
    let pods = get("/api/v1/namespaces/kube-system/pods?limit=500", kubectl_accept);
    assert_eq!(pods["columnDefinitions"][1]["name"], "Ready");
    assert_eq!(pods["rows"][0]["object"]["metadata"]["namespace"], "kube-system");
    assert_eq!(pods["rows"][0]["cells"][2], "Running");
    // `kubectl get -w`: each event's object is a one-row Table (the watch ends after 1 s).
    let events = block_in_place(|| {
        let mut s = TcpStream::connect(addr).expect("connect");
        let path = "/api/v1/nodes?watch=true&timeoutSeconds=1";
        let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: {kubectl_accept}\r\n\r\n");
        s.write_all(req.as_bytes()).expect("write");
        let mut buf = String::new();
        s.read_to_string(&mut buf).expect("read");
        buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
    });
    let first: Value = serde_json::from_str(events.lines().next().unwrap_or("")).expect("an event");
    assert_eq!(first["type"], "ADDED", "{first}");
    assert_eq!(first["object"]["kind"], "Table", "{first}");
    assert_eq!(first["object"]["rows"][0]["cells"][0], "r1-n01", "{first}");
    assert_eq!(events.lines().count(), 6, "{events}");
    // A client that asks for JSON (kube-rs, kubectl -o json) gets the list as before.
    assert_eq!(get("/api/v1/nodes", "application/json")["kind"], "NodeList");
    // describe node: the node's pods that have not finished.
    let all = get("/api/v1/pods?fieldSelector=spec.nodeName%3Dr1-n01", "application/json");
    let path = "/api/v1/pods?fieldSelector=spec.nodeName%3Dr1-n01%2Cstatus.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed&limit=500";
    let running = get(path, "application/json");
    assert_eq!(running["kind"], "PodList", "{running}");
    let n = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
    assert!(n(&running) > 0 && n(&running) <= n(&all), "{} of {}", n(&running), n(&all));
    let unsupported = get("/api/v1/pods?fieldSelector=status.foo%3Dx", "application/json");
    assert_eq!(unsupported["code"], 400, "{unsupported}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_returns_every_item_once() {
    let server = start(30, &[]).await;
    server.control().pause_churn(true);
    let addr = server.addr;
    let mut seen = Vec::new();
    let mut path = "/api/v1/nodes?limit=10".to_string();
    let mut pages = 0;
    loop {
        let page = get_json(addr, &path).await;
        assert_eq!(page["kind"], "NodeList");
        assert!(page["metadata"]["resourceVersion"].as_str().is_some());
        let items = names(&page);
        assert!(items.len() <= 10);
        seen.extend(items);
        pages += 1;
        match page["metadata"]["continue"].as_str() {
            Some(c) if !c.is_empty() => path = format!("/api/v1/nodes?limit=10&continue={c}"),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    let mut uniq = seen.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!((seen.len(), uniq.len()), (30, 30));
    // Pods in pages of 97 add up to the full list.
    let all = names(&get_json(addr, "/api/v1/pods").await).len();
    assert_eq!(all, server.control().counts().1);
    let mut total = 0;
    let mut path = "/api/v1/pods?limit=97".to_string();
    loop {
        let page = get_json(addr, &path).await;
        total += names(&page).len();
        match page["metadata"]["continue"].as_str() {
            Some(c) if !c.is_empty() => path = format!("/api/v1/pods?limit=97&continue={c}"),
            _ => break,
        }
    }
    assert_eq!(total, all);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_and_field_selectors_filter() {
    let server = start(24, &[]).await;
    let addr = server.addr;
    let cilium = get_json(addr, "/api/v1/pods?labelSelector=k8s-app%3Dcilium").await;
    let items = cilium["items"].as_array().expect("items");
    assert!(!items.is_empty());
    assert!(items.iter().all(|p| p["metadata"]["labels"]["k8s-app"] == "cilium"));
    let flannel =
        get_json(addr, "/api/v1/namespaces/kube-flannel/pods?labelSelector=app%3Dflannel,tier").await;
    assert!(names(&flannel).iter().all(|n| n.starts_with("kube-flannel-ds-")));
    let on_node = get_json(addr, "/api/v1/pods?fieldSelector=spec.nodeName%3Dr1-n01").await;
    let items = on_node["items"].as_array().expect("items");
    assert!(items.len() > 5);
    assert!(items.iter().all(|p| p["spec"]["nodeName"] == "r1-n01"));
    let racks =
        get_json(addr, "/api/v1/nodes?labelSelector=topology.kubernetes.io/zone%20in%20(rack-1,rack-2)")
            .await;
    assert_eq!(names(&racks).len(), 8);
    let not = get_json(addr, "/api/v1/nodes?fieldSelector=metadata.name!%3Dr1-n01").await;
    assert_eq!(names(&not).len(), 23);
    let (code, _) = http(addr, "GET", "/api/v1/pods?fieldSelector=status.hostIP%3D1").await;
    assert_eq!(code, 400);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_delivers_a_bgp_change() {
    let server = start(24, &[]).await;
    let ctl = server.control();
    let addr = server.addr;
    let list = get_json(addr, "/apis/cilium.io/v2/ciliumbgpnodeconfigs").await;
    let rv = list["metadata"]["resourceVersion"].as_str().expect("rv").to_string();
    let node = names(&list).into_iter().next().expect("a BGP node");
    let peer = ctl.bgp_peers(&node).into_iter().next().expect("a peer");
    let path = format!(
        "/apis/cilium.io/v2/ciliumbgpnodeconfigs?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3D{node}"
    );
    let mut w = Watch::open(addr, &path).await;
    ctl.set_bgp_state(&node, &peer, "idle");
    let ev = w
        .until(20, |e| {
            e["type"] == "MODIFIED"
                && e["object"]["status"]["bgpInstances"][0]["peers"].as_array().is_some_and(|ps| {
                    ps.iter().any(|p| p["name"] == peer.as_str() && p["peeringState"] == "idle")
                })
        })
        .await
        .expect("the change arrives");
    assert_eq!(ev["object"]["metadata"]["name"], node.as_str());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_answers_410_to_old_resource_versions() {
    let server = start(12, &[]).await;
    let ctl = server.control();
    let addr = server.addr;
    let first = get_json(addr, "/api/v1/pods?limit=5").await;
    let rv = first["metadata"]["resourceVersion"].as_str().expect("rv").to_string();
    let cont = first["metadata"]["continue"].as_str().expect("continue").to_string();
    let mut open = Watch::open(addr, &format!("/api/v1/nodes?watch=1&resourceVersion={rv}")).await;
    ctl.expire();
    let is_410 =
        |e: &Value| e["type"] == "ERROR" && e["object"]["code"] == 410 && e["object"]["reason"] == "Expired";
    open.until(20, is_410).await.expect("the open watch ends with 410");
    assert!(open.until(20, |_| true).await.is_none(), "and then the stream ends");
    let mut old = Watch::open(addr, &format!("/api/v1/nodes?watch=true&resourceVersion={rv}")).await;
    let ev = old.until(20, |_| true).await.expect("an event");
    assert!(is_410(&ev), "{ev}");
    let (code, body) = http(addr, "GET", &format!("/api/v1/pods?limit=5&continue={cont}")).await;
    assert_eq!(code, 410, "{body}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sends_bookmarks_and_honours_timeout() {
    let server = start(6, &[]).await;
    let addr = server.addr;
    let mut w = Watch::open(addr, "/api/v1/nodes?watch=true&allowWatchBookmarks=true&timeoutSeconds=5").await;
    let added = w.until(10, |e| e["type"] == "ADDED").await.expect("current objects first");
    assert_eq!(added["object"]["kind"], "Node");
    let bm = w.until(10, |e| e["type"] == "BOOKMARK").await.expect("a bookmark");
    assert!(bm["object"]["metadata"]["resourceVersion"].as_str().is_some());
    assert!(w.until(10, |_| false).await.is_none(), "the stream ends at timeoutSeconds");
    server.shutdown().await;
}

/// A streaming list (WatchList): every current node as ADDED, then the BOOKMARK annotated
/// `k8s.io/initial-events-end`, then the ordinary watch. The parameters are checked as upstream's
/// `validateWatchOptions` checks them (422 `Invalid`), and `--no-watch-list` refuses
/// `sendInitialEvents` as a server without the feature gate does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_list_sends_every_object_then_the_initial_events_end_bookmark() {
    const Q: &str = "/api/v1/nodes?watch=true&allowWatchBookmarks=true&sendInitialEvents=true\
                     &resourceVersionMatch=NotOlderThan&resourceVersion=&timeoutSeconds=5";
    let server = start(6, &[]).await;
    let addr = server.addr;
    let mut w = Watch::open(addr, Q).await;
    let mut added = Vec::new();
    let end = loop {
        let e = w.until(10, |_| true).await.expect("an event before the bookmark");
        match e["type"].as_str() {
            Some("ADDED") => added.push(e["object"]["metadata"]["name"].as_str().unwrap_or("").to_string()),
            _ => break e,
        }
    };
    assert_eq!(end["type"], "BOOKMARK", "{end}");
    assert_eq!(end["object"]["kind"], "Node");
    assert_eq!(end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
    assert!(end["object"]["metadata"]["resourceVersion"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(added.len(), 6, "{added:?}");
    server.shutdown().await;

    // Refused as invalid: the parameters upstream refuses, and any sendInitialEvents without the
    // feature.
    let server =
        Server::start(ServeConfig { no_watch_list: true, ..ServeConfig::default() }).await.expect("starts");
    let on = start(2, &[]).await;
    for (srv, path, field) in [
        (&server, Q, "sendInitialEvents"),
        (
            &on,
            "/api/v1/nodes?watch=true&allowWatchBookmarks=true&sendInitialEvents=true",
            "resourceVersionMatch",
        ),
        (&on, "/api/v1/nodes?watch=true&resourceVersionMatch=NotOlderThan", "resourceVersionMatch"),
    ] {
        let (code, body) = http(srv.addr, "GET", path).await;
        assert_eq!(code, 422, "{path}: {body}");
        let st: Value = serde_json::from_str(&body).expect("status");
        assert_eq!(st["reason"], "Invalid", "{body}");
        assert_eq!(st["details"]["causes"][0]["field"], field, "{body}");
        assert!(st["message"].as_str().unwrap_or("").starts_with("ListOptions.meta.k8s.io \"\" is invalid"));
    }
    // Without the feature, ordinary watches and lists still work.
    assert_eq!(http(server.addr, "GET", "/api/v1/nodes").await.0, 200);
    server.shutdown().await;
    on.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_method_and_unknown_paths() {
    let server = start(12, &["ciliumbgpnodeconfigs"]).await;
    let addr = server.addr;
    for path in [
        "/apis/cilium.io/v2/ciliumbgpnodeconfigs",
        "/apis/cilium.io/v2/ciliumbgpnodeconfigs?watch=true",
        "/apis/cilium.io/v2/ciliumbgpnodeconfigs/r5-n01",
    ] {
        let (code, body) = http(addr, "GET", path).await;
        assert_eq!(code, 403, "{path}");
        let st: Value = serde_json::from_str(&body).expect("status");
        assert_eq!((st["kind"].as_str(), st["reason"].as_str()), (Some("Status"), Some("Forbidden")));
        assert!(
            st["message"].as_str().unwrap_or("").starts_with("ciliumbgpnodeconfigs.cilium.io is forbidden")
        );
    }
    server.control().set_forbidden(&["pods"]);
    assert_eq!(http(addr, "GET", "/apis/cilium.io/v2/ciliumbgpnodeconfigs").await.0, 200);
    assert_eq!(http(addr, "GET", "/api/v1/namespaces/kube-system/pods").await.0, 403);
    for method in ["POST", "DELETE", "PUT", "PATCH"] {
        let (code, body) = http(addr, method, "/api/v1/nodes").await;
        assert_eq!(code, 405, "{method}");
        assert!(body.contains("\"kind\":\"Status\""));
    }
    assert_eq!(http(addr, "GET", "/api/v1/nodes/nope").await.0, 404);
    assert_eq!(http(addr, "GET", "/apis/example.com/v1/things").await.0, 404);
    assert_eq!(http(addr, "GET", "/nope").await.0, 404);
    let reqs = server.control().requests();
    assert!(reqs.iter().any(|(m, p)| m == "POST" && p == "/api/v1/nodes"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watcher_lists_watches_and_relists_after_expire() {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Node;
    use kube::runtime::watcher;

    let server = start(12, &[]).await;
    let ctl = server.control();
    let url = format!("http://{}", server.addr).parse().expect("url");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    let api: kube::Api<Node> = kube::Api::all(client.clone());
    let cfg = watcher::Config::default().page_size(5).timeout(20);
    let mut stream = watcher(api, cfg).boxed();
    let mut names = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("event in time")
            .expect("stream open")
            .expect("no error")
        {
            watcher::Event::InitApply(n) => names.push(n.metadata.name.unwrap_or_default()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names.len(), 12);
    ctl.expire();
    // The watch ends with 410; the watcher reports it and lists again.
    let mut relisted = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("event in time")
            .expect("stream open")
        {
            Ok(watcher::Event::InitApply(_)) => relisted += 1,
            Ok(watcher::Event::InitDone) => break,
            _ => {}
        }
    }
    assert_eq!(relisted, 12);
    let reqs = ctl.requests();
    assert!(
        reqs.iter().filter(|(_, p)| p.starts_with("/api/v1/nodes?") && p.contains("limit=5")).count() >= 6
    );
    server.shutdown().await;
}

/// 5,000 nodes and 150,000 pods: `cargo test --release --test sim_serve_kubectl -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn serves_5000_nodes_and_150k_pods() {
    let t = Instant::now();
    let cfg = ServeConfig {
        sim: SimConfig { nodes: 5000, ..SimConfig::default() },
        pods: Some(150_000),
        ..ServeConfig::default()
    };
    let server = Server::start(cfg).await.expect("server starts");
    eprintln!("started in {:?}", t.elapsed());
    server.control().pause_churn(true);
    assert_eq!(server.control().counts(), (5000, 150_000));
    let t = Instant::now();
    let (code, body) = http(server.addr, "GET", "/api/v1/pods").await;
    assert_eq!(code, 200);
    eprintln!("full pod list: {} MB in {:?}", body.len() / 1_000_000, t.elapsed());
    let t = Instant::now();
    let mut total = 0;
    let mut path = "/api/v1/pods?limit=500".to_string();
    loop {
        let page = get_json(server.addr, &path).await;
        total += names(&page).len();
        match page["metadata"]["continue"].as_str() {
            Some(c) if !c.is_empty() => path = format!("/api/v1/pods?limit=500&continue={c}"),
            _ => break,
        }
    }
    assert_eq!(total, 150_000);
    eprintln!("paged pod list in {:?}", t.elapsed());
    server.shutdown().await;
}
