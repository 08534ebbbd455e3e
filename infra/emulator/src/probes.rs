//! The first request each function gets: one per function of the router table `cargo lambda watch` serves.

use serde_json::Value;

use crate::cargo_metadata;

/// One function's first request.
pub(crate) struct Probe {
    pub(crate) function: String,
    pub(crate) method: String,
    pub(crate) path: String,
}

impl Probe {
    /// Any answer, whatever its status, is a success; only no answer at all is an error.
    pub(crate) fn send(&self, agent: &ureq::Agent, url: &str) -> Result<(), ureq::Error> {
        let json = "application/json";
        match self.method.as_str() {
            "GET" => agent.get(url).call(),
            "DELETE" => agent.delete(url).call(),
            "PUT" => agent.put(url).header("content-type", json).send("{}"),
            "PATCH" => agent.patch(url).header("content-type", json).send("{}"),
            _ => agent.post(url).header("content-type", json).send("{}"),
        }
        .map(drop)
    }
}

/// One request per function of the router table in the workspace `Cargo.toml` (`metadata.lambda.watch.router`), the
/// routes `cargo lambda watch` serves: each function's first route, `{param}` segments filled in.
pub(crate) fn probes() -> Result<Vec<Probe>, String> {
    let metadata = cargo_metadata()?;
    let router = metadata["metadata"]["lambda"]["watch"]["router"]
        .as_object()
        .ok_or("no [workspace.metadata.lambda.watch.router] table in Cargo.toml")?;
    let mut probes: Vec<Probe> = Vec::new();
    for (path, routes) in router {
        let path = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "probe"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let routes: Vec<(&str, &str)> = match routes {
            // A string routes every method to one function.
            Value::String(function) => vec![("POST", function.as_str())],
            Value::Array(routes) => routes
                .iter()
                .filter_map(|route| Some((route["method"].as_str()?, route["function"].as_str()?)))
                .collect(),
            _ => Vec::new(),
        };
        for (method, function) in routes {
            if probes.iter().all(|probe| probe.function != function) {
                probes.push(Probe {
                    function: function.to_owned(),
                    method: method.to_owned(),
                    path: path.clone(),
                });
            }
        }
    }
    if probes.is_empty() {
        return Err("the router table in Cargo.toml routes to no function".to_owned());
    }
    Ok(probes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace_root;

    #[test]
    fn every_function_of_the_router_table_gets_one_probe() {
        let probes = probes().unwrap();
        let mut functions: Vec<&str> = probes.iter().map(|p| p.function.as_str()).collect();
        functions.sort_unstable();
        let mut packages: Vec<String> = std::fs::read_dir(workspace_root().join("functions"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        packages.sort_unstable();
        assert_eq!(functions, packages);
        assert!(probes.iter().all(|p| !p.path.contains('{')));
    }
}
