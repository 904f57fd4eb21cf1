//! Checks over the deployment files that can run without a container engine: the Compose file
//! parsed as YAML (anchors resolved, `<<` merges applied) and the Dockerfile's stages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlLoader};

const SERVICES: [&str; 6] = [
    "api-gateway",
    "inventory",
    "vault",
    "monitor-worker",
    "webhook-dispatcher",
    "rmm-sync",
];

fn read(path: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path),
    )
    .unwrap()
}

fn key(name: &str) -> Yaml {
    Yaml::String(name.to_string())
}

/// A mapping with its `<<` merge applied (its own keys win).
fn merged(value: &Yaml) -> Hash {
    let own = value.as_hash().unwrap();
    let mut out = own
        .get(&key("<<"))
        .and_then(Yaml::as_hash)
        .cloned()
        .unwrap_or_default();
    for (k, v) in own {
        if *k != key("<<") {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

#[test]
fn compose_publishes_only_the_gateway_and_migrates_first() {
    let docs = YamlLoader::load_from_str(&read("deploy/compose/compose.yaml")).unwrap();
    let services = docs[0]["services"].as_hash().unwrap();
    let service = |name: &str| merged(&services[&key(name)]);
    for name in services.keys().map(|k| k.as_str().unwrap()) {
        let published = service(name).contains_key(&key("ports"));
        assert_eq!(published, name == "api-gateway", "{name} ports");
    }
    let migrate = service("migrate");
    let script = format!("{:?}", migrate[&key("command")]);
    for name in SERVICES {
        let s = service(name);
        let command: Vec<&str> = s[&key("command")]
            .as_vec()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(command, [name, "serve"]);
        assert_eq!(
            s[&key("depends_on")]["migrate"]["condition"].as_str(),
            Some("service_completed_successfully"),
            "{name} starts after the migrations"
        );
        assert_eq!(s[&key("read_only")].as_bool(), Some(true), "{name}");
        let caps = s
            .get(&key("cap_add"))
            .map(|c| format!("{c:?}"))
            .unwrap_or_default();
        assert_eq!(
            caps.contains("NET_RAW"),
            name == "monitor-worker",
            "{name} NET_RAW"
        );
        assert!(
            script.contains(&format!("{name} migrate")),
            "{name} is migrated"
        );
        let env = s[&key("environment")].as_hash().unwrap();
        for secret in [
            "CLIENTSTOR_GATEWAY__INTERNAL_SECRET",
            "CLIENTSTOR_VAULT__MASTER_KEY",
        ] {
            let value = env[&key(secret)].as_str().unwrap();
            assert!(
                value.starts_with("${"),
                "{secret} comes from the environment, not the file"
            );
        }
    }
}

#[test]
fn the_image_is_multi_stage_non_root_and_holds_the_six_binaries() {
    let dockerfile = read("deploy/docker/Dockerfile");
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    let runtime = dockerfile.split(stages[1]).nth(1).unwrap();
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets a user");
    let uid: u32 = user.split(':').next().unwrap().parse().unwrap();
    assert!(uid >= 1000, "non-root: {user}");
    assert!(dockerfile.contains("--mount=type=cache,target=/usr/local/cargo/registry"));
    assert!(dockerfile.contains("--locked"));
    for name in SERVICES {
        assert!(
            dockerfile.contains(&format!("-p {name}")),
            "{name} is built"
        );
        assert!(
            dockerfile.contains(&format!("target/release/{name}")),
            "{name} is copied"
        );
    }
}
