//! The token secrets in `template.yaml`, read as CloudFormation would deploy them under each `JwtAlgorithm` and
//! `JwtAcceptHs256`: the template's `Conditions` evaluated and its `!If`s taken, `AWS::NoValue` dropped. What each
//! function's environment names (`VIMCAR_SECRET_ID`, `JWT_SIGNING_KEYS_ID`, `JWT_PUBLIC_KEYS_ID`) and what its role
//! may read (`secretsmanager:GetSecretValue`) are held to its `keys` in the registry here (registry.rs) and to the
//! Secrets Manager calls it makes at start-up (permissions.rs).

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value as Yaml;
use vimcar::config::TokenConfig;
use vimcar::routes::Function;

use super::template;

/// The environment variables that name a secret, and the only place a function learns one.
pub(super) const SECRET_ID_VARS: [&str; 3] = [
    "VIMCAR_SECRET_ID",
    "JWT_SIGNING_KEYS_ID",
    "JWT_PUBLIC_KEYS_ID",
];

/// The template's parameters that decide which secrets each function uses.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mode {
    pub algorithm: &'static str,
    pub accept_hs256: bool,
}

/// Every deployable combination: HS256, ES256, and ES256 while HS256 tokens are still accepted (the template's
/// Rules refuse JwtAcceptHs256=true with HS256, and so do the functions).
pub(super) const MODES: [Mode; 3] = [
    Mode {
        algorithm: "HS256",
        accept_hs256: false,
    },
    Mode {
        algorithm: "ES256",
        accept_hs256: false,
    },
    Mode {
        algorithm: "ES256",
        accept_hs256: true,
    },
];

impl Mode {
    /// The value of a template parameter under this mode.
    pub fn parameter(&self, name: &str) -> Option<Yaml> {
        match name {
            "JwtAlgorithm" => Some(self.algorithm.into()),
            "JwtAcceptHs256" => Some(if self.accept_hs256 { "true" } else { "false" }.into()),
            _ => None,
        }
    }

    /// The token configuration the functions read under this mode (no secret given: only what decides uses).
    pub fn token_config(&self) -> TokenConfig {
        TokenConfig::from_lookup(|name| match name {
            "JWT_ALGORITHM" => Some(self.algorithm.to_owned()),
            "JWT_ACCEPT_HS256" => Some(self.accept_hs256.to_string()),
            _ => None,
        })
        .expect("every mode is a valid token configuration")
    }

    /// Evaluates the template condition `name`.
    fn condition(&self, template: &Yaml, name: &str) -> bool {
        let condition = &template["Conditions"][name];
        assert!(
            !condition.is_null(),
            "template.yaml has no condition {name}"
        );
        self.truth(template, condition)
    }

    /// Evaluates a condition function (`!Equals`, `!Not`, `!And`, `!Or`, `!Condition`).
    fn truth(&self, template: &Yaml, value: &Yaml) -> bool {
        let Yaml::Tagged(tagged) = value else {
            panic!("a condition that is no condition function: {value:?}");
        };
        let arguments = || {
            tagged
                .value
                .as_sequence()
                .unwrap_or_else(|| panic!("{} takes a list: {value:?}", tagged.tag))
        };
        match tagged.tag.to_string().as_str() {
            "!Equals" => {
                let arguments = arguments();
                assert_eq!(arguments.len(), 2, "!Equals takes two values");
                self.scalar(&arguments[0]) == self.scalar(&arguments[1])
            }
            "!Not" => !self.truth(template, &arguments()[0]),
            "!And" => arguments().iter().all(|c| self.truth(template, c)),
            "!Or" => arguments().iter().any(|c| self.truth(template, c)),
            "!Condition" => self.condition(
                template,
                tagged.value.as_str().expect("!Condition names a condition"),
            ),
            other => panic!("a condition function this test does not understand: {other}"),
        }
    }

    /// A plain value, or a `!Ref` to one of the mode's parameters.
    fn scalar(&self, value: &Yaml) -> Yaml {
        match value {
            Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
                let name = tagged.value.as_str().expect("!Ref names something");
                self.parameter(name).unwrap_or_else(|| {
                    panic!("a condition on the parameter {name}, which this test does not vary")
                })
            }
            other => other.clone(),
        }
    }

    /// `value` as deployed under this mode: every `!If` taken, every `!Ref AWS::NoValue` dropped (`None` when the
    /// value itself is dropped).
    pub fn resolve(&self, template: &Yaml, value: &Yaml) -> Option<Yaml> {
        match value {
            Yaml::Tagged(tagged)
                if tagged.tag == "Ref" && tagged.value.as_str() == Some("AWS::NoValue") =>
            {
                None
            }
            Yaml::Tagged(tagged) if tagged.tag == "If" => {
                let arguments = tagged.value.as_sequence().expect("!If takes a list");
                assert_eq!(arguments.len(), 3, "!If [condition, then, else]");
                let name = arguments[0].as_str().expect("!If names a condition");
                let taken = if self.condition(template, name) {
                    &arguments[1]
                } else {
                    &arguments[2]
                };
                self.resolve(template, taken)
            }
            Yaml::Sequence(items) => Some(Yaml::Sequence(
                items
                    .iter()
                    .filter_map(|item| self.resolve(template, item))
                    .collect(),
            )),
            Yaml::Mapping(entries) => Some(Yaml::Mapping(
                entries
                    .iter()
                    .filter_map(|(key, item)| {
                        self.resolve(template, item).map(|item| (key.clone(), item))
                    })
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }
}

/// The template function resource that deploys `target/lambda/<binary>/`, resolved under `mode`.
pub(super) fn function_resource(template: &Yaml, binary: &str, mode: Mode) -> Yaml {
    let code_uri = format!("target/lambda/{binary}/");
    let function = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .find(|resource| resource["Properties"]["CodeUri"].as_str() == Some(&code_uri))
        .unwrap_or_else(|| panic!("no function in template.yaml deploys {code_uri}"));
    mode.resolve(template, function)
        .expect("a function resource is not dropped")
}

/// A function's environment as deployed under `mode`: `Globals.Function`'s variables, then its own.
pub(super) fn environment(binary: &str, mode: Mode) -> BTreeMap<String, Yaml> {
    let template = template();
    let globals = mode
        .resolve(
            &template,
            &template["Globals"]["Function"]["Environment"]["Variables"],
        )
        .unwrap_or(Yaml::Null);
    let function = function_resource(&template, binary, mode);
    let own = &function["Properties"]["Environment"]["Variables"];
    [&globals, own]
        .into_iter()
        .flat_map(|variables| variables.as_mapping().into_iter().flatten())
        .map(|(name, value)| {
            (
                name.as_str()
                    .expect("variable names are strings")
                    .to_owned(),
                value.clone(),
            )
        })
        .collect()
}

/// The logical id a `!Ref` points at.
fn ref_target(value: &Yaml) -> Option<String> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The logical ids of the template's `AWS::SecretsManager::Secret` resources.
pub(super) fn secret_resources() -> BTreeSet<String> {
    template()["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::SecretsManager::Secret"))
        .map(|(id, _)| id.as_str().expect("logical ids are strings").to_owned())
        .collect()
}

/// The secrets a function's environment names under `mode`: variable -> the secret's logical id. Each must be a
/// `!Ref` to a secret of the stack (its ARN), nothing else.
pub(super) fn named_secrets(binary: &str, mode: Mode) -> BTreeMap<String, String> {
    let secrets = secret_resources();
    environment(binary, mode)
        .into_iter()
        .filter(|(name, _)| SECRET_ID_VARS.contains(&name.as_str()))
        .map(|(name, value)| {
            let target = ref_target(&value).unwrap_or_else(|| {
                panic!("{binary} ({mode:?}): {name} is not a !Ref to a secret of the stack: {value:?}")
            });
            assert!(
                secrets.contains(&target),
                "{binary} ({mode:?}): {name} names {target}, which is no AWS::SecretsManager::Secret"
            );
            (name, target)
        })
        .collect()
}

/// The secrets a function's role may read under `mode` (logical ids), from its `secretsmanager:GetSecretValue`
/// statements, each on one `!Ref` to a secret and nothing else.
pub(super) fn granted_secrets(binary: &str, mode: Mode) -> BTreeSet<String> {
    let template = template();
    let function = function_resource(&template, binary, mode);
    let mut granted = BTreeSet::new();
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    for statement in policies.iter().flat_map(|policy| {
        policy["Statement"]
            .as_sequence()
            .cloned()
            .unwrap_or_default()
    }) {
        let actions: Vec<String> = match &statement["Action"] {
            Yaml::String(action) => vec![action.clone()],
            Yaml::Sequence(actions) => actions
                .iter()
                .filter_map(Yaml::as_str)
                .map(str::to_owned)
                .collect(),
            other => panic!("{binary}: an Action that is not a name or a list: {other:?}"),
        };
        if !actions
            .iter()
            .any(|action| action.starts_with("secretsmanager:"))
        {
            continue;
        }
        assert_eq!(
            actions,
            ["secretsmanager:GetSecretValue"],
            "{binary} ({mode:?}): a function reads secrets and does nothing else with them"
        );
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{binary}");
        assert!(
            statement["Condition"].is_null(),
            "{binary}: a Secrets Manager statement with a condition this test does not understand"
        );
        let target = ref_target(&statement["Resource"]).unwrap_or_else(|| {
            panic!(
                "{binary} ({mode:?}): a GetSecretValue statement on {:?}, not on one !Ref to a secret",
                statement["Resource"]
            )
        });
        assert!(
            secret_resources().contains(&target),
            "{binary} ({mode:?}): GetSecretValue on {target}, which is no secret of the stack"
        );
        granted.insert(target);
    }
    granted
}

/// What the registry says a function reads under `mode`: variable -> the secret's logical id, as keys::load reads
/// them (the HMAC secret when `needs_secret`; with ES256 the signers' set to sign, else the public set to verify
/// or publish).
pub(super) fn expected_secrets(function: &Function, mode: Mode) -> BTreeMap<String, String> {
    let config = mode.token_config();
    let uses = function.keys;
    let mut expected = BTreeMap::new();
    if uses.needs_secret(&config) {
        expected.insert("VIMCAR_SECRET_ID".to_owned(), "SigningSecret".to_owned());
    }
    if mode.algorithm == "ES256" {
        if uses.sign {
            expected.insert(
                "JWT_SIGNING_KEYS_ID".to_owned(),
                "JwtSigningKeys".to_owned(),
            );
        } else if uses.verify || uses.publish {
            expected.insert("JWT_PUBLIC_KEYS_ID".to_owned(), "JwtPublicKeys".to_owned());
        }
    }
    expected
}
