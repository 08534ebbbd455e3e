//! The registry (`vimcar::routes::FUNCTIONS`, in shared/src/routes.rs) is the one place each function's name, routes,
//! handler, DynamoDB actions, signing material (`keys`), memory and timeout are written. Everything that repeats them is held to it here, so
//! none can change alone: the packages under `functions/` (what gets built), the `cargo lambda watch` router in the
//! workspace `Cargo.toml` (what `make dev` and the end-to-end test serve), `template.yaml`'s functions (what
//! deploys: code, memory, timeout, routes, DynamoDB actions, and the secrets each function is told of and may read) and `openapi.yaml`'s operations (what is promised).
//! A failure names the copy that differs: edit shared/src/routes.rs first, then the copy.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;
use vimcar::routes::{FUNCTIONS, Function, function};
use vimcar_tests::server::{cargo_metadata, workspace_root};

use super::template;

/// (method, path, function), e.g. ("POST", "/auth", "auth").
type Route = (String, String, String);

/// Where the facts are written, for the failure messages.
const REGISTRY: &str = "shared/src/routes.rs";

/// Every route of the registry, with the function that serves it.
fn registry_routes() -> BTreeSet<Route> {
    FUNCTIONS
        .iter()
        .flat_map(|function| {
            function.routes.iter().map(|route| {
                (
                    route.method.to_owned(),
                    route.path.to_owned(),
                    function.name.to_owned(),
                )
            })
        })
        .collect()
}

/// The registry's function names.
fn registry_names() -> BTreeSet<String> {
    FUNCTIONS
        .iter()
        .map(|function| function.name.to_owned())
        .collect()
}

/// The template's `AWS::Serverless::Function` resources, by logical id.
fn template_functions(template: &Yaml) -> Vec<(String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, resource)| {
            (
                id.as_str().expect("logical ids are strings").to_owned(),
                resource.clone(),
            )
        })
        .collect()
}

/// The binary a template function deploys: `target/lambda/<name>/`, where `cargo lambda build` writes it.
fn deployed_binary(id: &str, function: &Yaml) -> String {
    let code_uri = function["Properties"]["CodeUri"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: CodeUri is a path"));
    let name = code_uri
        .strip_prefix("target/lambda/")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{id}: CodeUri {code_uri} is not target/lambda/<name>/"));
    assert!(
        !name.is_empty() && !name.contains('/'),
        "{id}: CodeUri {code_uri}"
    );
    name.to_owned()
}

/// Whether a `!Ref` points at `logical_id`.
fn is_ref_to(value: &Yaml, logical_id: &str) -> bool {
    match value {
        Yaml::Tagged(tagged) => tagged.tag == "Ref" && tagged.value.as_str() == Some(logical_id),
        _ => false,
    }
}

fn template_routes() -> BTreeSet<Route> {
    let template = template();
    let mut routes = BTreeSet::new();
    for (id, function) in template_functions(&template) {
        let name = deployed_binary(&id, &function);
        let events = function["Properties"]["Events"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{id} has no Events"));
        for (event_id, event) in events {
            let event_id = event_id.as_str().unwrap_or_default();
            assert_eq!(
                event["Type"].as_str(),
                Some("HttpApi"),
                "{id}.{event_id}: every event is an HTTP API route"
            );
            let properties = &event["Properties"];
            assert!(
                is_ref_to(&properties["ApiId"], "HttpApi"),
                "{id}.{event_id}: the route belongs to the stack's HttpApi (ApiId: !Ref HttpApi)"
            );
            assert_eq!(
                properties["PayloadFormatVersion"].as_str(),
                Some("2.0"),
                "{id}.{event_id}: the handlers read API Gateway payload 2.0 events"
            );
            let method = properties["Method"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}.{event_id}: Method"));
            let path = properties["Path"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}.{event_id}: Path"));
            let route = (method.to_uppercase(), path.to_owned(), name.clone());
            assert!(routes.insert(route), "{id}.{event_id} is declared twice");
        }
    }
    routes
}

/// `[workspace.metadata.lambda.watch.router]`: a path maps to a function for every method, or to a list of
/// `{ method, function }`.
fn watch_routes() -> BTreeSet<Route> {
    let metadata = cargo_metadata();
    let router = metadata["metadata"]["lambda"]["watch"]["router"]
        .as_object()
        .expect("the workspace Cargo.toml has [workspace.metadata.lambda.watch.router]");
    let mut routes = BTreeSet::new();
    for (path, target) in router {
        match target {
            Json::String(function) => {
                routes.insert(("ANY".to_owned(), path.clone(), function.clone()));
            }
            Json::Array(entries) => {
                for entry in entries {
                    let method = entry["method"].as_str().expect("a router entry's method");
                    let function = entry["function"]
                        .as_str()
                        .expect("a router entry's function");
                    let route = (method.to_uppercase(), path.clone(), function.to_owned());
                    assert!(routes.insert(route), "{method} {path} is routed twice");
                }
            }
            other => panic!("router entry for {path} is neither a name nor a list: {other}"),
        }
    }
    routes
}

/// The directories under `functions/`.
fn function_dirs() -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("functions"))
        .expect("functions/ is readable")
        .map(|entry| entry.expect("a directory entry"))
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| entry.file_name().into_string().expect("UTF-8 names"))
        .collect()
}

fn functions_of(routes: &BTreeSet<Route>) -> BTreeSet<String> {
    routes
        .iter()
        .map(|(_, _, function)| function.clone())
        .collect()
}

/// A function property of the template, its own or else the one `Globals.Function` gives every function.
fn property(template: &Yaml, function: &Yaml, name: &str) -> Yaml {
    let own = &function["Properties"][name];
    if own.is_null() {
        template["Globals"]["Function"][name].clone()
    } else {
        own.clone()
    }
}

#[test]
fn the_registry_serves_the_api_contract_of_the_readme() {
    let expected: BTreeSet<Route> = [
        ("POST", "/api/users", "register"),
        ("POST", "/auth", "auth"),
        ("POST", "/auth/refresh", "refresh"),
        ("POST", "/auth/logout", "logout"),
        ("GET", "/api/users", "list-users"),
        ("GET", "/api/users/me", "me"),
        ("GET", "/api/users/{id}", "get-user"),
        ("POST", "/api/users/me/password", "change-password"),
        ("DELETE", "/api/users/me", "delete-account"),
        ("GET", "/.well-known/jwks.json", "jwks"),
        ("GET", "/.well-known/openid-configuration", "jwks"),
    ]
    .into_iter()
    .map(|(method, path, function)| (method.into(), path.into(), function.into()))
    .collect();
    assert_eq!(
        registry_routes(),
        expected,
        "the API contract in the README: a new route goes into {REGISTRY}, the README and this list"
    );
    for function in FUNCTIONS {
        assert!(
            !function.routes.is_empty(),
            "{}: a function serves at least one route",
            function.name
        );
    }
}

#[test]
fn the_template_and_the_local_router_serve_the_registrys_routes() {
    let registry = registry_routes();
    let template = template_routes();
    assert_eq!(
        template, registry,
        "template.yaml's HttpApi events differ from the routes in {REGISTRY}: edit the function's Events in \
         template.yaml"
    );
    assert_eq!(
        watch_routes(),
        registry,
        "Cargo.toml's [workspace.metadata.lambda.watch.router] differs from the routes in {REGISTRY}: edit the \
         router table in the workspace Cargo.toml"
    );
    assert_eq!(
        template,
        watch_routes(),
        "template.yaml's HttpApi events and Cargo.toml's [workspace.metadata.lambda.watch.router] differ"
    );
}

#[test]
fn every_function_directory_is_registered_routed_and_deployed_and_nothing_else_is() {
    let dirs = function_dirs();
    assert_eq!(
        registry_names(),
        dirs,
        "the functions in {REGISTRY} and the directories under functions/ differ: a function is both"
    );
    assert_eq!(
        functions_of(&template_routes()),
        dirs,
        "template.yaml's functions and the directories under functions/ differ"
    );
    assert_eq!(
        functions_of(&watch_routes()),
        dirs,
        "the local router's functions and the directories under functions/ differ"
    );
}

#[test]
fn each_template_function_deploys_a_registered_function_with_its_memory_timeout_and_dynamodb_actions()
 {
    let template = template();
    let functions = template_functions(&template);
    let ids: BTreeSet<&str> = functions.iter().map(|(id, _)| id.as_str()).collect();
    let registered: BTreeSet<&str> = FUNCTIONS.iter().map(|function| function.resource).collect();
    assert_eq!(
        ids, registered,
        "template.yaml's AWS::Serverless::Function resources differ from the resources named in {REGISTRY}"
    );
    for (id, resource) in &functions {
        let name = deployed_binary(id, resource);
        let function: &Function = function(&name).unwrap_or_else(|| {
            panic!("{id} deploys target/lambda/{name}/, which is no function in {REGISTRY}")
        });
        assert_eq!(
            id, function.resource,
            "{id} deploys {name}, whose resource in {REGISTRY} is {}: edit one of the two",
            function.resource
        );
        assert_eq!(
            property(&template, resource, "MemorySize").as_u64(),
            Some(u64::from(function.memory_mb)),
            "{id}: MemorySize is not the memory_mb of {name} in {REGISTRY}: edit template.yaml to match"
        );
        assert_eq!(
            property(&template, resource, "Timeout").as_u64(),
            Some(u64::from(function.timeout_s)),
            "{id}: Timeout is not the timeout_s of {name} in {REGISTRY}: edit template.yaml to match"
        );
        let granted: BTreeSet<String> = super::permissions::allowed(&name)
            .into_keys()
            .map(|(action, _, _)| action)
            .collect();
        let registered: BTreeSet<String> = function
            .dynamodb
            .iter()
            .map(|action| format!("dynamodb:{action}"))
            .collect();
        assert_eq!(
            granted, registered,
            "{id}: the DynamoDB actions its Policies allow are not the dynamodb actions of {name} in {REGISTRY}: \
             edit template.yaml to match (the permissions test holds each grant to the calls {name} makes)"
        );
    }
}

#[test]
fn the_spec_documents_exactly_the_registrys_routes() {
    let operations: BTreeSet<(String, String)> = registry_routes()
        .into_iter()
        .map(|(method, path, _)| (path, method))
        .collect();
    assert_eq!(
        super::openapi::Spec::load().operations(),
        operations,
        "openapi.yaml's paths and methods differ from the routes in {REGISTRY}: edit openapi.yaml to match"
    );
}

#[test]
fn each_function_directory_is_a_workspace_package_with_a_binary_of_its_name() {
    let metadata = cargo_metadata();
    let root = workspace_root();
    for dir in function_dirs() {
        let manifest = root.join("functions").join(&dir).join("Cargo.toml");
        let package = metadata["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|package| package["manifest_path"].as_str().map(Path::new) == Some(&manifest))
            .unwrap_or_else(|| panic!("functions/{dir} is not a workspace member"));
        let binaries: Vec<&str> = package["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .filter(|target| {
                target["kind"]
                    .as_array()
                    .is_some_and(|k| k.contains(&"bin".into()))
            })
            .filter_map(|target| target["name"].as_str())
            .collect();
        assert_eq!(
            binaries,
            [dir.as_str()],
            "functions/{dir} builds exactly one binary, named {dir}: `cargo lambda build` writes \
             target/lambda/{dir}/bootstrap and the router runs `--bin {dir}`"
        );
    }
}

#[test]
fn every_function_is_a_prebuilt_arm64_bootstrap_on_the_custom_runtime() {
    let template = template();
    for (id, function) in template_functions(&template) {
        let property = |name: &str| property(&template, &function, name);
        assert_eq!(
            property("Runtime").as_str(),
            Some("provided.al2023"),
            "{id}"
        );
        assert_eq!(property("Handler").as_str(), Some("bootstrap"), "{id}");
        let architectures: Vec<Yaml> = vec!["arm64".into()];
        assert_eq!(
            property("Architectures").as_sequence(),
            Some(&architectures),
            "{id}"
        );
        // `make build` compiles target/lambda/<name>/bootstrap; `sam build` must take it as it is.
        assert_eq!(
            function["Metadata"]["SkipBuild"].as_bool(),
            Some(true),
            "{id}: Metadata.SkipBuild"
        );
        deployed_binary(&id, &function);
    }
}

#[test]
fn each_function_is_told_of_and_may_read_exactly_the_secrets_its_keys_use_under_each_algorithm() {
    use super::secrets::{MODES, expected_secrets, granted_secrets, named_secrets};
    for mode in MODES {
        for function in FUNCTIONS {
            let name = function.name;
            let expected = expected_secrets(function, mode);
            assert_eq!(
                named_secrets(name, mode),
                expected,
                "{name} ({mode:?}): the secret ids in its environment in template.yaml are not what its keys in \
                 {REGISTRY} use: edit its Environment (an !If on the algorithm's condition where it depends on it)"
            );
            let granted: BTreeSet<String> = expected.into_values().collect();
            assert_eq!(
                granted_secrets(name, mode),
                granted,
                "{name} ({mode:?}): the secrets its role may read (secretsmanager:GetSecretValue) in template.yaml \
                 are not the ones its keys in {REGISTRY} use: edit its Policies"
            );
        }
    }
    // What the template promises in its comments, in the registry's terms.
    let hs256 = MODES[0];
    let es256 = MODES[1];
    assert!(
        named_secrets("register", hs256).is_empty() && named_secrets("register", es256).is_empty(),
        "register reads no secret"
    );
    assert_eq!(
        granted_secrets("me", es256),
        BTreeSet::from(["JwtPublicKeys".to_owned()]),
        "with ES256 a verifier reads the public keys only"
    );
    assert!(
        granted_secrets("jwks", hs256).is_empty(),
        "with HS256 the JWKS function reads nothing"
    );
}

#[test]
fn no_function_environment_holds_signing_material() {
    use super::secrets::{MODES, SECRET_ID_VARS, environment};
    // Whoever may call lambda:GetFunctionConfiguration reads these variables: they name secrets, never hold one.
    const MATERIAL: [&str; 2] = ["VIMCAR_SECRET", "JWT_KEYS_FILE"];
    for mode in MODES {
        for function in FUNCTIONS {
            let name = function.name;
            for (variable, value) in environment(name, mode) {
                assert!(
                    !MATERIAL.contains(&variable.as_str()),
                    "{name} ({mode:?}): {variable} in template.yaml puts signing material into the Lambda \
                     configuration; name a secret with VIMCAR_SECRET_ID / JWT_*_KEYS_ID instead"
                );
                let text = serde_yaml_ng::to_string(&value).expect("a value serialises");
                assert!(
                    !text.contains("resolve:secretsmanager") && !text.contains("resolve:ssm"),
                    "{name} ({mode:?}): {variable} is a dynamic reference, which CloudFormation replaces with the \
                     secret's value in the configuration"
                );
                assert!(
                    !text.contains("\"d\"") && !text.contains("\"keys\""),
                    "{name} ({mode:?}): {variable} holds what looks like a key set: {text}"
                );
                if SECRET_ID_VARS.contains(&variable.as_str()) {
                    continue;
                }
                assert!(
                    !variable.contains("SECRET") && !variable.contains("KEY"),
                    "{name} ({mode:?}): {variable} looks like signing material; only {SECRET_ID_VARS:?} name \
                     secrets"
                );
            }
        }
    }
}
