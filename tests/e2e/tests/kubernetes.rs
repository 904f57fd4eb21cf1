//! The Kubernetes manifests as `kubectl kustomize` renders the production overlay (kubectl is
//! installed by scripts/infra.sh), checked object by object.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use yaml_rust2::{Yaml, YamlLoader};

const SERVICES: [(&str, &str); 6] = [
    ("api-gateway", "gateway"),
    ("inventory", "inventory"),
    ("vault", "vault"),
    ("monitor-worker", "monitor"),
    ("webhook-dispatcher", "webhooks"),
    ("rmm-sync", "rmm"),
];

fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Real(r) => json!(r.parse::<f64>().unwrap()),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (k, v) in hash {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                };
                map.insert(key, to_json(v));
            }
            Value::Object(map)
        }
        _ => Value::Null,
    }
}

fn render() -> Vec<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = std::process::Command::new("kubectl")
        .args(["kustomize", "deploy/k8s/overlays/production"])
        .current_dir(&root)
        .output()
        .expect("kubectl is installed by scripts/infra.sh");
    assert!(
        output.status.success(),
        "kustomize failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    YamlLoader::load_from_str(&text)
        .unwrap()
        .iter()
        .map(to_json)
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_deployment_is_probed_limited_locked_down_and_migrated_first() {
    let objects = render();
    assert!(
        objects
            .iter()
            .all(|o| o["metadata"]["namespace"] == "clientstor" || o["kind"] == "Namespace")
    );
    for (name, schema) in SERVICES {
        let deployment = named(&objects, "Deployment", name);
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
        let init = &pod["initContainers"][0];
        assert_eq!(strings(&init["args"]), [name, "migrate"], "{name}");
        let container = &pod["containers"][0];
        assert_eq!(strings(&container["args"]), [name, "serve"], "{name}");
        for c in [init, container] {
            assert!(
                c["image"]
                    .as_str()
                    .unwrap()
                    .starts_with("ghcr.io/clientstor/clientstor:")
            );
            let security = &c["securityContext"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{name}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(
                strings(&security["capabilities"]["drop"]),
                ["ALL"],
                "{name}"
            );
            for kind in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        !c["resources"][kind][resource].is_null(),
                        "{name} {kind} {resource}"
                    );
                }
            }
            // Secrets only by reference; the database URL names the service's own role.
            let env = c["env"].as_array().unwrap();
            for var in env {
                let value = var["value"].as_str().unwrap_or_default();
                assert!(
                    var["valueFrom"].is_object() || value.contains("$("),
                    "{name}: {var} is a literal"
                );
            }
            let db_user = env.iter().find(|v| v["name"] == "DB_USER").unwrap();
            assert_eq!(
                db_user["valueFrom"]["secretKeyRef"]["name"],
                format!("clientstor-db-{schema}"),
                "{name}"
            );
        }
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"], "/healthz",
            "{name}"
        );
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"], "/readyz",
            "{name}"
        );
        let added = strings(&container["securityContext"]["capabilities"]["add"]);
        if name == "monitor-worker" {
            assert_eq!(added, ["NET_RAW"], "ICMP for the monitors");
        } else {
            assert!(added.is_empty(), "{name} adds {added:?}");
        }
        let labels = &deployment["spec"]["selector"]["matchLabels"];
        let pdb = named(&objects, "PodDisruptionBudget", name);
        assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels, "{name}");
        assert!(
            deployment["spec"]["replicas"].as_i64().unwrap() >= 2,
            "{name}"
        );
        named(&objects, "Service", name);
    }
    // Autoscalers for the request-serving and checking services, pointing at real Deployments.
    let hpas = of_kind(&objects, "HorizontalPodAutoscaler");
    assert!(hpas.len() >= 4);
    for hpa in hpas {
        let target = hpa["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
        named(&objects, "Deployment", target);
        assert!(hpa["spec"]["minReplicas"].as_i64().unwrap() >= 2);
    }
}

#[test]
fn only_the_gateway_is_reachable_from_outside_and_services_only_from_the_gateway() {
    let objects = render();
    let policies = of_kind(&objects, "NetworkPolicy");
    let deny = named(&objects, "NetworkPolicy", "default-deny");
    assert_eq!(deny["spec"]["podSelector"], json!({}));
    assert_eq!(strings(&deny["spec"]["policyTypes"]), ["Ingress", "Egress"]);
    // An ingress rule without `from` admits anyone: only the gateway's policy has one.
    for policy in &policies {
        for rule in policy["spec"]["ingress"].as_array().into_iter().flatten() {
            if rule["from"].is_null() {
                assert_eq!(
                    policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
                    "api-gateway",
                    "{policy}"
                );
            }
        }
    }
    let from_gateway = named(&objects, "NetworkPolicy", "services-from-gateway");
    let selected = strings(&from_gateway["spec"]["podSelector"]["matchExpressions"][0]["values"]);
    for (name, _) in SERVICES.iter().filter(|(n, _)| *n != "api-gateway") {
        assert!(
            selected.contains(name),
            "{name} is not limited to the gateway"
        );
    }
    assert_eq!(
        from_gateway["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "api-gateway"
    );
    // Public egress never includes the private ranges or the metadata address.
    for policy in &policies {
        for rule in policy["spec"]["egress"].as_array().into_iter().flatten() {
            for peer in rule["to"].as_array().into_iter().flatten() {
                if peer["ipBlock"]["cidr"] == "0.0.0.0/0" {
                    let except = strings(&peer["ipBlock"]["except"]);
                    for private in [
                        "10.0.0.0/8",
                        "172.16.0.0/12",
                        "192.168.0.0/16",
                        "169.254.0.0/16",
                    ] {
                        assert!(except.contains(&private), "{policy}");
                    }
                }
            }
        }
    }
    let ingress = of_kind(&objects, "Ingress");
    assert_eq!(ingress.len(), 1);
    assert_eq!(
        ingress[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "api-gateway"
    );
    assert!(
        of_kind(&objects, "Service")
            .iter()
            .all(|s| s["spec"]["type"].is_null() || s["spec"]["type"] == "ClusterIP")
    );
}

#[test]
fn postgres_and_rabbitmq_come_from_their_operators_with_a_role_and_queue_per_service() {
    let objects = render();
    let cluster = named(&objects, "Cluster", "clientstor-db");
    assert_eq!(cluster["apiVersion"], "postgresql.cnpg.io/v1");
    let roles: Vec<&str> = cluster["spec"]["managed"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for (_, schema) in SERVICES {
        assert!(
            roles.contains(&format!("clientstor_{schema}").as_str()),
            "{schema}"
        );
    }
    let bootstrap =
        &cluster["spec"]["bootstrap"]["initdb"]["postInitApplicationSQLRefs"]["configMapRefs"][0];
    let roles_sql = named(&objects, "ConfigMap", bootstrap["name"].as_str().unwrap());
    assert!(
        roles_sql["data"][bootstrap["key"].as_str().unwrap()]
            .as_str()
            .unwrap()
            .contains("AUTHORIZATION"),
        "each schema owned by its role"
    );
    assert!(!cluster["spec"]["backup"].is_null());

    named(&objects, "RabbitmqCluster", "clientstor-mq");
    let exchange = named(&objects, "Exchange", "clientstor-events");
    assert_eq!(exchange["spec"]["name"], "clientstor.events");
    assert_eq!(exchange["spec"]["type"], "topic");
    for consumer in ["inventory", "vault", "monitor", "webhooks", "rmm"] {
        let queue = named(&objects, "Queue", &format!("{consumer}-events"));
        assert_eq!(queue["spec"]["type"], "quorum");
        assert_eq!(
            queue["spec"]["arguments"]["x-dead-letter-exchange"],
            "clientstor.events.dlx"
        );
        assert!(
            of_kind(&objects, "Binding")
                .iter()
                .any(|b| b["spec"]["destination"] == format!("{consumer}.events")
                    && b["spec"]["source"] == "clientstor.events"),
            "{consumer} is bound"
        );
    }
    let inventory_keys: Vec<&Value> = of_kind(&objects, "Binding")
        .into_iter()
        .filter(|b| b["spec"]["destination"] == "inventory.events")
        .map(|b| &b["spec"]["routingKey"])
        .collect();
    assert!(inventory_keys.contains(&&json!("rmm.device.*")));
    // The dispatcher's queue gets organization changes and the public catalogue, nothing
    // internal.
    let mut webhook_keys: Vec<&str> = of_kind(&objects, "Binding")
        .into_iter()
        .filter(|b| b["spec"]["destination"] == "webhooks.events")
        .filter_map(|b| b["spec"]["routingKey"].as_str())
        .collect();
    webhook_keys.sort_unstable();
    let mut expected: Vec<&str> = clientstor_events::types::PUBLIC
        .iter()
        .map(|(name, _)| *name)
        .chain(["organization.*"])
        .collect();
    expected.sort_unstable();
    assert_eq!(webhook_keys, expected);
    named(&objects, "User", "clientstor");
    named(&objects, "Permission", "clientstor");
}
