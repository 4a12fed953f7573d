//! Unit tests of resolving settings.

use super::*;

#[test]
fn management_credentials_and_the_access_log_come_from_the_file() {
    let file: ConfigFile = "api_token = [\"t1\", \"t2\"]\napi_key = [\"AKID:secret\"]\naccess_log = \"off\"\naccess_log_format = \"text\"\napi_id = \"a1b2c3\"\n"
        .parse()
        .unwrap();
    assert_eq!(file.options.api_token, Some(vec!["t1".into(), "t2".into()]));
    assert_eq!(file.options.access_log, Some(AccessLogTarget::Off));
    assert_eq!(file.options.access_log_format, Some(AccessLogFormat::Text));
    assert_eq!(file.options.api_id.as_deref(), Some("a1b2c3"));
    let bad_key = Options {
        plugins: Some(PathBuf::from("/nonexistent")),
        api_key: Some(vec!["no-secret".into()]),
        ..Options::default()
    };
    let error = Settings::resolve(bad_key, None).unwrap_err().to_string();
    assert!(error.contains("ACCESS_KEY_ID:SECRET_ACCESS_KEY"), "{error}");
}

#[test]
fn the_management_region_and_connection_cap_have_defaults_and_file_keys() {
    let file: ConfigFile = "api_region = \"eu-west-1\"\napi_max_connections = 8\n"
        .parse()
        .unwrap();
    assert_eq!(file.options.api_region.as_deref(), Some("eu-west-1"));
    assert_eq!(file.options.api_max_connections, Some(8));
    let given = Options {
        plugins: Some(PathBuf::from("/nonexistent")),
        ..Options::default()
    };
    let settings = Settings::resolve(given, None).unwrap();
    assert_eq!(settings.api_max_connections, 1024);
    let credentials = format!("{:?}", settings.api_credentials);
    assert!(credentials.contains(DEFAULT_API_REGION), "{credentials}");
}

#[test]
fn flags_beat_the_file_which_beats_defaults() {
    let dir = std::env::temp_dir().join(format!("wsgate-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("wsgate.toml"),
        "listen = \"127.0.0.1:9000\"\nstage = \"prod\"\n[routes]\n\"$connect\" = \"chat.wasm\"\nsendmessage = { component = \"chat.wasm\" }\n",
    )
    .unwrap();
    let given = Options {
        plugins: Some(dir.clone()),
        stage: Some("dev".into()),
        ..Options::default()
    };
    let settings = Settings::resolve(given, None).unwrap();
    assert_eq!(settings.listen, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(settings.api_listen, DEFAULT_API_LISTEN.parse().unwrap());
    assert_eq!(settings.stage, "dev");
    assert_eq!(
        settings
            .routes
            .components
            .get("sendmessage")
            .map(String::as_str),
        Some("chat.wasm")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cluster_options_come_from_the_file_with_defaults() {
    let file: ConfigFile =
        "cluster = \"redis://127.0.0.1:6379/\"\nheartbeat_interval = \"500ms\"\nreuse_port = true\n"
            .parse()
            .unwrap();
    assert_eq!(
        file.options.heartbeat_interval,
        Some(Duration::from_millis(500))
    );
    assert!(file.options.reuse_port);
    let given = Options {
        plugins: Some(PathBuf::from("/nonexistent")),
        cluster: Some("redis://redis:6379/".into()),
        node_id: Some("a".into()),
        ..Options::default()
    };
    let cluster = Settings::resolve(given, None).unwrap().cluster.unwrap();
    assert_eq!(cluster.node_id, "a");
    assert_eq!(cluster.heartbeat_interval, Duration::from_secs(2));
    assert_eq!(cluster.node_expiry, Duration::from_secs(10));
    let too_short = Options {
        plugins: Some(PathBuf::from("/nonexistent")),
        cluster: Some("redis://redis:6379/".into()),
        node_expiry: Some(Duration::from_secs(1)),
        ..Options::default()
    };
    let error = Settings::resolve(too_short, None).unwrap_err().to_string();
    assert!(error.contains("node_expiry"), "{error}");
}

#[test]
fn a_missing_or_bad_config_file_is_a_clear_error() {
    let missing = Settings::resolve(
        Options::default(),
        Some(Path::new("/nonexistent/wsgate.toml")),
    );
    assert!(
        format!("{:#}", missing.unwrap_err())
            .contains("cannot read the config file /nonexistent/wsgate.toml")
    );
    assert!(
        Settings::resolve(Options::default(), None)
            .unwrap_err()
            .to_string()
            .contains("--plugins")
    );
    let typo = "lisen = \"x\"".parse::<ConfigFile>();
    assert!(typo.unwrap_err().to_string().contains("lisen"));
}
