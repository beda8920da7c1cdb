use super::*;

const ISSUE_EXAMPLE: &str = r#"
[prometheus]
url = "http://prometheus.monitoring:9090"
node_label = "node"
[offline]                       # which pods count as offline work
priority_classes = ["koord-batch", "koord-free"]
qos_classes = ["BE"]            # koordinator.sh/qosClass values
[colocation]
windows = ["01:00-06:00"]
tz = "Asia/Shanghai"
[queries]                       # any named template may be overridden
"#;

fn origin() -> &'static Path {
    Path::new("/etc/clustertop/config.toml")
}

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, origin())
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn issue_example_parses() {
    let c = parse(ISSUE_EXAMPLE).expect("parses");
    assert_eq!(c.prometheus.url.as_deref(), Some("http://prometheus.monitoring:9090"));
    assert_eq!(c.prometheus.node_label.as_deref(), Some("node"));
    assert_eq!(c.offline.priority_classes, vec!["koord-batch", "koord-free"]);
    assert_eq!(c.offline.qos_classes, vec!["BE"]);
    assert_eq!(c.colocation.windows, Some(vec![Window::parse("01:00-06:00").expect("window")]));
    assert_eq!(c.colocation.tz, Some(chrono_tz::Asia::Shanghai));
    assert!(c.queries.is_empty());
    assert_eq!(c.theme, None);
}

#[test]
fn shipped_example_parses_with_every_section() {
    let text = include_str!("../../examples/config.toml");
    let c = Config::parse(text, Path::new("examples/config.toml")).expect("examples/config.toml parses");
    assert!(
        c.prometheus.url.is_some() && c.prometheus.timeout_s.is_some() && c.prometheus.refresh_s.is_some()
    );
    assert_eq!(c.conntrack.keepalive_idle_s, Some(900));
    assert_eq!(c.colocation.windows.as_ref().map(Vec::len), Some(1));
    assert!(c.theme.is_some());
    // Every key of every table is at least mentioned (set or commented out).
    for key in [
        "url",
        "node_label",
        "rack_label",
        "timeout_s",
        "refresh_s",
        "username",
        "password",
        "password_file",
        "bearer_token",
        "bearer_token_file",
        "priority_classes",
        "qos_classes",
        "windows",
        "tz",
        "keepalive_idle_s",
        "theme",
        "mouse",
        "cpu_used",
    ] {
        assert!(text.contains(&format!("{key} = ")), "examples/config.toml does not mention {key}");
    }
}

#[test]
fn empty_file_gives_defaults() {
    let c = parse("").expect("parses");
    assert_eq!(Config { at: Located::default(), ..c.clone() }, Config::default());
    assert_eq!(c.offline.priority_classes, vec!["koord-batch", "koord-free"]);
    assert_eq!(c.offline.qos_classes, vec!["BE"]);
    // A table with some keys keeps the defaults of the others.
    let c = parse("[offline]\nqos_classes = [\"LS\"]").expect("parses");
    assert_eq!(c.offline.priority_classes, vec!["koord-batch", "koord-free"]);
}

#[test]
fn bad_window_names_file_line_and_key() {
    let text = "[prometheus]\nurl = \"http://p:9090\"\n\n[colocation]\ntz = \"UTC\"\n\nwindows = [\"01:00-02:00\", \"25:00-06:00\"]\n";
    let e = err(text);
    assert!(e.starts_with("/etc/clustertop/config.toml:7: colocation.windows: "), "{e}");
    assert!(e.contains("\"25:00\" is not a time of day"), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    let e = err("[prometheus]\nurll = \"http://p\"\n");
    assert!(
        e.starts_with("/etc/clustertop/config.toml:2: prometheus.urll: unknown key; valid keys: url, "),
        "{e}"
    );
    assert!(e.contains("bearer_token_file"), "{e}");
    let e = err("[prometeus]\nurl = \"http://p\"\n");
    assert!(
        e.starts_with("/etc/clustertop/config.toml:1: prometeus: unknown key; valid keys: prometheus, "),
        "{e}"
    );
    let e = err("[colocation]\nwindow = [\"01:00-06:00\"]\n");
    assert!(e.contains(":2: colocation.window: unknown key; valid keys: windows, tz"), "{e}");
}

#[test]
fn unknown_tz_asks_for_an_iana_name() {
    let e = err("[colocation]\ntz = \"Asia/Shangai\"\n");
    assert!(e.starts_with("/etc/clustertop/config.toml:2: colocation.tz: "), "{e}");
    assert!(e.contains("IANA name"), "{e}");
}

#[test]
fn type_and_syntax_errors_have_a_line() {
    let e = err("[conntrack]\nkeepalive_idle_s = \"900\"\n");
    assert!(e.starts_with("/etc/clustertop/config.toml:2: conntrack.keepalive_idle_s: "), "{e}");
    let e = err("[prometheus]\nurl = \"http://p\n");
    assert!(e.starts_with("/etc/clustertop/config.toml:2: "), "{e}");
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn prometheus_values_are_validated() {
    for (text, key) in [
        ("url = \"prometheus:9090\"", "prometheus.url"),
        ("url = \"ftp://p\"", "prometheus.url"),
        ("url = \"http://\"", "prometheus.url"),
        ("url = \"https://:9090/x\"", "prometheus.url"),
        ("timeout_s = 0.0", "prometheus.timeout_s"),
        ("timeout_s = -1.0", "prometheus.timeout_s"),
        ("timeout_s = 5000.0", "prometheus.timeout_s"),
        ("refresh_s = nan", "prometheus.refresh_s"),
        ("refresh_s = inf", "prometheus.refresh_s"),
        ("node_label = \"kubernetes.io/hostname\"", "prometheus.node_label"),
        ("rack_label = \"\"", "prometheus.rack_label"),
    ] {
        let e = err(&format!("# comment\n[prometheus]\n{text}\n"));
        assert!(e.starts_with(&format!("/etc/clustertop/config.toml:3: {key}: ")), "{text}: {e}");
    }
    for ok in ["http://p", "https://user@[::1]:9090/prom", "http://10.0.0.1:9090/?x=1"] {
        parse(&format!("[prometheus]\nurl = \"{ok}\"\n")).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    parse("[prometheus]\ntimeout_s = 2.5\nrefresh_s = 30\n").expect("integers are accepted as floats");
}

#[test]
fn auth_settings_are_exclusive() {
    let e = err("[prometheus]\nusername = \"u\"\npassword = \"p\"\npassword_file = \"f\"\n");
    assert!(e.contains(":4: prometheus.password_file: password and password_file are exclusive"), "{e}");
    let e = err("[prometheus]\nbearer_token = \"t\"\nbearer_token_file = \"f\"\n");
    assert!(e.contains(":3: prometheus.bearer_token_file: bearer_token and bearer_token_file"), "{e}");
    let e = err("[prometheus]\nusername = \"u\"\npassword = \"p\"\nbearer_token = \"t\"\n");
    assert!(e.contains(":4: prometheus.bearer_token: basic auth (username/password) and a bearer"), "{e}");
    let e = err("[prometheus]\nusername = \"u\"\n");
    assert!(e.contains(":2: prometheus.username: needs password or password_file"), "{e}");
    let e = err("[prometheus]\npassword = \"p\"\n");
    assert!(e.contains(":2: prometheus.password: needs username"), "{e}");
    assert!(!e.contains("\"p\""), "a secret never appears in an error: {e}");
}

#[test]
fn other_values_are_validated() {
    assert!(err("[conntrack]\nkeepalive_idle_s = 0\n").contains(":2: conntrack.keepalive_idle_s: "));
    assert!(err("[conntrack]\nkeepalive_idle_s = -5\n").contains(":2: conntrack.keepalive_idle_s: "));
    assert!(err("[offline]\nqos_classes = [\"BE\", \" \"]\n").contains(":2: offline.qos_classes: "));
    assert!(err("[queries]\ncpu_used = \"\"\n").contains(":2: queries.cpu_used: the query is empty"));
    let e = err("[queries]\n\ncpu_usd = \"x\"\n");
    assert!(
        e.contains(":3: queries.cpu_usd: no such query; the names are ") && e.contains("cpu_used"),
        "{e}"
    );
    assert!(err("theme = \"\"\n").contains(":1: theme: "));
    let c = parse("[queries]\ncpu_used = 'sum(rate(x[5m]))'\n").expect("parses");
    assert_eq!(c.queries.get("cpu_used").map(String::as_str), Some("sum(rate(x[5m]))"));
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("clustertop-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn secrets_are_read_from_files_relative_to_the_config() {
    let dir = temp_dir("secret");
    std::fs::write(dir.join("pw"), "s3cret\n").expect("write");
    std::fs::write(dir.join("token"), "tok\r\n").expect("write");
    std::fs::write(dir.join("empty"), "\n").expect("write");
    let origin = dir.join("config.toml");
    let c =
        Config::parse("[prometheus]\nusername = \"u\"\npassword_file = \"pw\"\n", &origin).expect("parses");
    assert_eq!(c.prometheus.password_file.as_deref(), Some(dir.join("pw").as_path()));
    let auth = c.prometheus.secret().expect("reads");
    assert_eq!(auth, Some(Auth::Basic { username: "u".into(), password: "s3cret".into() }));
    let c = Config::parse("[prometheus]\nbearer_token_file = \"token\"\n", &origin).expect("parses");
    assert_eq!(c.prometheus.secret().expect("reads"), Some(Auth::Bearer("tok".into())));
    let c = Config::parse("[prometheus]\nbearer_token_file = \"missing\"\n", &origin).expect("parses");
    let (key, e) = c.prometheus.secret().expect_err("missing file");
    assert_eq!(key, "prometheus.bearer_token_file");
    assert_eq!(c.at.error(key, &e), format!("{}:2: prometheus.bearer_token_file: {e}", origin.display()));
    assert!(e.contains("missing"), "{e}");
    let c = Config::parse("[prometheus]\nbearer_token_file = \"empty\"\n", &origin).expect("parses");
    assert!(c.prometheus.secret().expect_err("empty").1.contains("empty"));
    assert_eq!(PrometheusConfig::default().secret(), Ok(None));
    let inline = parse("[prometheus]\nbearer_token = \"abc\"\n").expect("parses");
    assert_eq!(inline.prometheus.secret(), Ok(Some(Auth::Bearer("abc".into()))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn debug_never_prints_secrets() {
    let c = parse("[prometheus]\nusername = \"alice\"\npassword = \"hunter2\"\n").expect("parses");
    let d = format!("{c:?}");
    assert!(d.contains("alice") && d.contains("\"***\"") && !d.contains("hunter2"), "{d}");
    let auth = c.prometheus.secret().expect("inline").expect("some");
    let d = format!("{auth:?}");
    assert!(d.contains("alice") && !d.contains("hunter2"), "{d}");
    let c = parse("[prometheus]\nbearer_token = \"tok-123\"\n").expect("parses");
    assert!(!format!("{c:?}").contains("tok-123"));
    assert!(!format!("{:?}", Auth::Bearer("tok-123".into())).contains("tok-123"));
}

#[test]
fn default_path_from_env_values() {
    let os = |s: &str| Some(OsString::from(s));
    assert_eq!(
        default_path_from(os("/xdg"), os("/home/a")),
        Some(PathBuf::from("/xdg/clustertop/config.toml"))
    );
    let home = Some(PathBuf::from("/home/a/.config/clustertop/config.toml"));
    assert_eq!(default_path_from(None, os("/home/a")), home);
    assert_eq!(default_path_from(os(""), os("/home/a")), home, "empty XDG_CONFIG_HOME is unset");
    assert_eq!(default_path_from(os("rel/dir"), os("/home/a")), home, "relative XDG_CONFIG_HOME is ignored");
    assert_eq!(default_path_from(None, None), None);
    assert_eq!(default_path_from(None, os("")), None);
}

#[test]
fn load_explicit_must_exist() {
    let dir = temp_dir("load");
    let missing = dir.join("nope.toml");
    let e = Config::load(Some(&missing)).expect_err("missing explicit file");
    assert!(e.starts_with("--config ") && e.contains("nope.toml"), "{e}");
    let file = dir.join("config.toml");
    std::fs::write(&file, "theme = \"mono\"\n").expect("write");
    assert_eq!(Config::load(Some(&file)).expect("loads").theme.as_deref(), Some("mono"));
    std::fs::write(&file, "theme = 1\n").expect("write");
    let e = Config::load(Some(&file)).expect_err("bad type");
    assert!(e.starts_with(&format!("{}:1: theme: ", file.display())), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_theme_names_the_file_line_and_key_and_lists_the_themes() {
    let e = err("# mine\ntheme = \"neon\"\n");
    assert!(e.starts_with("/etc/clustertop/config.toml:2: theme: unknown theme \"neon\""), "{e}");
    assert!(e.contains("default, light, high-contrast, colorblind, mono"), "{e}");
    let e = err("theme = \"mine.toml\"\n");
    assert!(
        e.starts_with("/etc/clustertop/config.toml:1: theme: ") && e.contains("/etc/clustertop/mine.toml"),
        "{e}"
    );
    // A theme file is read relative to the config file, and checked.
    let dir = temp_dir("theme");
    std::fs::write(dir.join("bad.toml"), "name = 'bad'\n[slots]\nbase = { fg = 'nope' }\n").expect("write");
    let e = Config::parse("theme = \"bad.toml\"\n", &dir.join("config.toml")).expect_err("bad theme");
    assert!(e.contains("config.toml:1: theme: theme file") && e.contains("not a colour"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(parse("theme = \"high-contrast\"\n").expect("parses").theme.as_deref(), Some("high-contrast"));
}

#[test]
fn overlapping_windows_are_rejected_naming_both() {
    let e = err("[colocation]\nwindows = [\"01:00-06:00\", \"05:00-07:00\"]\n");
    assert_eq!(
        e,
        "/etc/clustertop/config.toml:2: colocation.windows: windows 01:00-06:00 and 05:00-07:00 overlap \
         (05:00-06:00): that time would be counted twice; set them as one window, 01:00-07:00"
    );
    parse("[colocation]\nwindows = [\"01:00-03:00\", \"03:00-06:00\"]\n").expect("touching windows are fine");
}
